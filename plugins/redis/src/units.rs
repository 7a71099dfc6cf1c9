//! The unit suffixes Redis accepts in memory values (`1k` is 1000 bytes, `1kb` 1024). Redis
//! takes durations only as plain numbers.

use drover_driver_sdk::catalog::Units;

/// Redis memory units, case-insensitive.
pub static UNITS: Units = Units {
    sizes: &[
        ("b", 1),
        ("k", 1_000),
        ("kb", 1 << 10),
        ("m", 1_000_000),
        ("mb", 1 << 20),
        ("g", 1_000_000_000),
        ("gb", 1 << 30),
    ],
    durations: &[],
    case_sensitive: false,
};
