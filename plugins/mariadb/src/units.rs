//! The suffixes MariaDB accepts on numeric options in option files (`256M`, `1G`), in either
//! case. `SET GLOBAL` takes only plain numbers, so validated sizes are stored in bytes.

use drover_driver_sdk::catalog::{Read, Units};

/// MariaDB size units.
pub static UNITS: Units = Units {
    sizes: &[
        ("B", 1),
        ("K", 1 << 10),
        ("M", 1 << 20),
        ("G", 1 << 30),
        ("T", 1 << 40),
    ],
    durations: &[],
    case_sensitive: false,
    read: Read::Plain,
};
