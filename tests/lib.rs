//! Drover's tests live in `all/` (one test binary, a module per area). This library is empty:
//! it exists so the crate can depend on the driver artifacts it tests.
