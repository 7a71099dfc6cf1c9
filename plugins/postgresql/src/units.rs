//! The unit suffixes PostgreSQL accepts in memory and time values (case-sensitive, as the
//! server takes them). `8kB` is not a suffix users write but the unit of page-counted
//! parameters such as `shared_buffers`, listed so values convert into it.

use drover_driver_sdk::catalog::{Read, Units};

/// PostgreSQL units.
pub static UNITS: Units = Units {
    sizes: &[
        ("B", 1),
        ("kB", 1 << 10),
        ("8kB", 8 << 10),
        ("MB", 1 << 20),
        ("GB", 1 << 30),
        ("TB", 1 << 40),
    ],
    durations: &[
        ("us", 1),
        ("ms", 1_000),
        ("s", 1_000_000),
        ("min", 60_000_000),
        ("h", 3_600_000_000),
        ("d", 86_400_000_000),
    ],
    case_sensitive: true,
    read: Read::Plain,
};
