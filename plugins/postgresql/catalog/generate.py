#!/usr/bin/env python3
"""Generates the PostgreSQL driver's parameter catalog from a real PostgreSQL server.

What the server says is the source of truth: every row of `pg_settings` becomes a parameter
or an exclusion.
  - type: `vartype` (bool, integer, real, enum, string); an integer with a memory `unit` is a
    size and one with a time unit a duration, in that unit (`shared_buffers` counts 8kB pages);
  - range: `min_val`/`max_val`; allowed values: `enumvals`;
  - default: `boot_val`, the compiled-in default, whatever the server's own configuration says;
  - dynamic: every `context` but `postmaster` (those need a restart) and `internal` (read-only,
    excluded); dynamic values are applied with ALTER SYSTEM and pg_reload_conf();
  - description: `short_desc` and `extra_desc`.
The parameters the service controls itself are in EXCLUDED below, with the reason a user sees.
The time zone names of `pg_timezone_names` are listed too (TIMEZONES): `TimeZone` and
`log_timezone` take only names the server can load, or it refuses its configuration file.

Usage: generate.py [--dsn "host=127.0.0.1 user=postgres dbname=postgres"] [--out FILE]
The output (src/catalog_15.rs for a 15.x server) is checked in.
"""

import argparse
import os
import subprocess
import sys

LOCATIONS = "file locations are controlled by the service"
NETWORK = "the service decides where a node listens"
REPLICATION = "replication is managed through the replication API"
LIBRARIES = "loading libraries would run arbitrary code on the node"
LOGGING = "server logs are collected by the service"
TLS = "TLS material is managed by the service"
SAFETY = "it would let users corrupt data or the catalogs"

EXCLUDED = {
    "allow_in_place_tablespaces": SAFETY,
    "allow_system_table_mods": SAFETY,
    "archive_cleanup_command": REPLICATION,
    "archive_command": "archiving is managed through the backup API",
    "archive_library": "archiving is managed through the backup API",
    "archive_mode": "archiving is managed through the backup API",
    "bonjour": NETWORK,
    "bonjour_name": NETWORK,
    "cluster_name": "the service names each node",
    "config_file": LOCATIONS,
    "data_directory": LOCATIONS,
    "data_sync_retry": SAFETY,
    "db_user_namespace": "it changes the name every login is looked up by; the service's own logins rely on it",
    "default_transaction_read_only": "the service sets it to stop writes while it promotes a replica",
    "dynamic_library_path": LIBRARIES,
    "event_source": LOGGING,
    "extension_destdir": LIBRARIES,
    "external_pid_file": LOCATIONS,
    "fsync": SAFETY,
    "full_page_writes": SAFETY,
    "hba_file": LOCATIONS,
    "hot_standby": REPLICATION,
    "ident_file": LOCATIONS,
    "ignore_checksum_failure": SAFETY,
    "ignore_invalid_pages": SAFETY,
    "ignore_system_indexes": SAFETY,
    "jit_provider": LIBRARIES,
    "krb_server_keyfile": LOCATIONS,
    "listen_addresses": NETWORK,
    "local_preload_libraries": LIBRARIES,
    "log_destination": LOGGING,
    "log_directory": LOGGING,
    "log_file_mode": LOGGING,
    "log_filename": LOGGING,
    "log_rotation_age": LOGGING,
    "log_rotation_size": LOGGING,
    "log_truncate_on_rotation": LOGGING,
    "logging_collector": LOGGING,
    "max_replication_slots": REPLICATION,
    "max_wal_senders": REPLICATION,
    "output_plugin_libraries": LIBRARIES,
    "port": "the service allocates the node's port",
    "primary_conninfo": REPLICATION,
    "primary_slot_name": REPLICATION,
    "promote_trigger_file": REPLICATION,
    "recovery_end_command": REPLICATION,
    "recovery_min_apply_delay": REPLICATION,
    "recovery_target": REPLICATION,
    "recovery_target_action": REPLICATION,
    "recovery_target_inclusive": REPLICATION,
    "recovery_target_lsn": REPLICATION,
    "recovery_target_name": REPLICATION,
    "recovery_target_time": REPLICATION,
    "recovery_target_timeline": REPLICATION,
    "recovery_target_xid": REPLICATION,
    "restore_command": REPLICATION,
    "session_preload_libraries": LIBRARIES,
    "shared_preload_libraries": LIBRARIES,
    "ssl": TLS,
    "ssl_ca_file": TLS,
    "ssl_cert_file": TLS,
    "ssl_crl_dir": TLS,
    "ssl_crl_file": TLS,
    "ssl_dh_params_file": TLS,
    "ssl_key_file": TLS,
    "ssl_passphrase_command": TLS,
    "ssl_passphrase_command_supports_reload": TLS,
    "synchronous_standby_names": REPLICATION,
    "syslog_facility": LOGGING,
    "syslog_ident": LOGGING,
    "syslog_sequence_numbers": LOGGING,
    "syslog_split_messages": LOGGING,
    "unix_socket_directories": LOCATIONS,
    "unix_socket_group": LOCATIONS,
    "unix_socket_permissions": LOCATIONS,
    "wal_level": REPLICATION,
    "wal_log_hints": REPLICATION,
    "zero_damaged_pages": SAFETY,
}
DEVELOPER = "a developer option, not for production servers"
READ_ONLY = "read-only: fixed when the server was built or initialised"

SIZE_UNITS = {"B", "kB", "8kB", "MB"}
TIME_UNITS = {"ms", "s", "min"}
COLUMNS = ["name", "vartype", "unit", "min_val", "max_val", "enumvals", "boot_val", "context",
           "category", "short_desc", "extra_desc"]


def settings(dsn):
    query = ("SELECT " + ", ".join(
        f"coalesce({c}::text, '')" for c in COLUMNS) + " FROM pg_settings ORDER BY name")
    out = subprocess.run(["psql", dsn, "-X", "-A", "-t", "-F", "\x1f", "-R", "\x1e", "-c", query],
                         capture_output=True, text=True, check=True).stdout
    rows = [r.split("\x1f") for r in out.strip("\n\x1e").split("\x1e") if r.strip()]
    # Sorted here, bytewise: the catalog's lookups rely on Rust's order, not a collation.
    return sorted((dict(zip(COLUMNS, [v.strip("\n") for v in r])) for r in rows),
                  key=lambda row: row["name"].encode())


def timezones(dsn):
    """The time zone names the server knows (`TimeZone`, `log_timezone`), without the `posix/`
    copies."""
    query = "SELECT name FROM pg_timezone_names WHERE name NOT LIKE 'posix/%' ORDER BY name"
    out = subprocess.run(["psql", dsn, "-X", "-A", "-t", "-c", query],
                         capture_output=True, text=True, check=True).stdout
    return sorted({line for line in out.splitlines() if line}, key=str.encode)


def server_version(dsn):
    return subprocess.run(["psql", dsn, "-X", "-A", "-t", "-c", "SHOW server_version"],
                          capture_output=True, text=True, check=True).stdout.split()[0]


def rust_str(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def number(text):
    value = float(text)
    return str(int(value)) if value.is_integer() else repr(value)


def describe(row):
    kind, unit = row["vartype"], row["unit"]
    if kind == "bool":
        return "Boolean", "Range::None", [], None
    if kind == "enum":
        values = row["enumvals"].strip("{}")
        allowed = [v.strip('"') for v in values.split(",")] if values else []
        return "Enumeration", "Range::None", allowed, None
    if kind == "string":
        return "Text", "Range::None", [], None
    if kind == "integer":
        rng = f"Range::Int({int(row['min_val'])}, {int(row['max_val'])})"
        if unit in SIZE_UNITS:
            return "Size", rng, [], unit
        if unit in TIME_UNITS:
            return "Duration", rng, [], unit
        return "Integer", rng, [], None
    if kind == "real":
        rng = f"Range::Float({float(row['min_val'])!r}, {float(row['max_val'])!r})"
        return "Float", rng, [], unit or None
    sys.exit(f"unknown vartype {kind} for {row['name']}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", default="host=127.0.0.1 user=postgres dbname=postgres")
    parser.add_argument("--out")
    args = parser.parse_args()

    full_version = server_version(args.dsn)
    major = full_version.split(".")[0]
    out_path = args.out or os.path.join(os.path.dirname(__file__), "..", "src", f"catalog_{major}.rs")

    params, excluded = [], []
    for row in settings(args.dsn):
        name = row["name"]
        if row["context"] == "internal":
            excluded.append((name, READ_ONLY))
        elif name in EXCLUDED:
            excluded.append((name, EXCLUDED[name]))
        elif row["category"] == "Developer Options":
            excluded.append((name, DEVELOPER))
        else:
            params.append(row)

    out = [
        f"// @generated by plugins/postgresql/catalog/generate.py from PostgreSQL {full_version}.",
        "// Do not edit: run `python3 plugins/postgresql/catalog/generate.py` and commit the result.",
        "",
        "use drover_driver_sdk::catalog::{Catalog, Excluded, Kind, Param, Range};",
        "",
        "use crate::units::UNITS;",
        "",
        f"/// PostgreSQL {major}: {len(params)} parameters users may set, {len(excluded)} the service controls.",
        "pub static CATALOG: Catalog = Catalog {",
        "    datastore: \"postgresql\",",
        f"    version: {rust_str(major)},",
        "    params: PARAMS,",
        "    excluded: EXCLUDED,",
        "    units: &UNITS,",
        "    booleans: (\"on\", \"off\"),",
        "};",
        "",
        "static PARAMS: &[Param] = &[",
    ]
    for row in params:
        kind, rng, allowed, unit = describe(row)
        description = " ".join(t for t in (row["short_desc"], row["extra_desc"]) if t)
        default = row["boot_val"]
        out += [
            "    Param {",
            f"        name: {rust_str(row['name'])},",
            f"        kind: Kind::{kind},",
            f"        range: {rng},",
            f"        allowed: &[{', '.join(rust_str(v) for v in allowed)}],",
            f"        unit: {'Some(' + rust_str(unit) + ')' if unit else 'None'},",
            f"        dynamic: {'false' if row['context'] == 'postmaster' else 'true'},",
            f"        default: Some({rust_str(default)}),",
            f"        description: {rust_str(description)},",
            "    },",
        ]
    out += ["];", "", "static EXCLUDED: &[Excluded] = &["]
    for name, reason in excluded:
        out += ["    Excluded {", f"        name: {rust_str(name)},", f"        reason: {rust_str(reason)},", "    },"]
    out += ["];", ""]
    zones = timezones(args.dsn)
    out += [
        "/// The time zone names the server knows, sorted bytewise (`TimeZone`, `log_timezone`).",
        "pub static TIMEZONES: &[&str] = &[",
    ]
    out += [f"    {rust_str(zone)}," for zone in zones]
    out += ["];", ""]
    with open(out_path, "w") as f:
        f.write("\n".join(out))
    print(f"{out_path}: {len(params)} parameters, {len(excluded)} excluded, {len(zones)} time zones")


if __name__ == "__main__":
    main()
