#!/usr/bin/env python3
"""Generates the MariaDB driver's parameter catalog from a real MariaDB server.

A fresh server (mariadb-install-db and mariadbd with --no-defaults, so no packaged option file
or plugin changes the answer) is started in a temporary directory, and every row of
`information_schema.SYSTEM_VARIABLES` becomes a parameter or an exclusion:
  - type: VARIABLE_TYPE (BOOLEAN, INT…/BIGINT…, DOUBLE, ENUM, SET/FLAGSET/VARCHAR); an integer
    that counts bytes is a size, in bytes (see is_bytes: the names say so, less the counts and
    percentages named like sizes, plus the byte counts named otherwise). Every integer option
    takes the K/M/G/T/P/E suffixes in my.cnf, sizes or not (the units module reads them);
  - range: NUMERIC_MIN_VALUE/NUMERIC_MAX_VALUE, exactly (they go up to 2^64); allowed values:
    ENUM_VALUE_LIST;
  - default: DEFAULT_VALUE;
  - dynamic: READ_ONLY = NO (applied with SET GLOBAL); READ_ONLY = YES needs a restart;
  - excluded: session-only variables and those that are not server options (mariadbd --help
    --verbose does not list them: my.cnf cannot keep a value for them), and those in EXCLUDED;
  - description: VARIABLE_COMMENT.
The members of SET and FLAGSET variables (SETS) and the locales of the locales plugin (LOCALES)
are listed too: a value the server cannot parse in my.cnf stops it from starting.

Usage: generate.py [--out FILE]        (needs mariadb-server; run as root or as any user)
The output (src/catalog_10_11.rs for a 10.11 server) is checked in.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

LOCATIONS = "file locations are controlled by the service"
NETWORK = "the service decides where a node listens"
REPLICATION = "replication is managed through the replication API"
CLUSTER = "clustering is managed through the clusters API"
LIBRARIES = "loading plugins would run arbitrary code on the node"
LOGGING = "server logs are collected by the service"
TLS = "TLS material is managed by the service"
ENCRYPTION = ("encryption at rest needs a key management plugin, which the service does not load; "
              "without it the server refuses to start or silently does not encrypt")
AUTH = "it would weaken or switch off the server's password and privilege checks"
OBSOLETE = "obsolete: the server does not use it, and a value it cannot parse stops it from starting"
FIXED = "fixed when the data directory was created: a server started with another value does not start"

EXCLUDED = {
    "allow_suspicious_udfs": LIBRARIES,
    "aria_block_size": FIXED,
    "aria_encrypt_tables": ENCRYPTION,
    "basedir": LOCATIONS,
    "core_file": "core dumps would write server memory to the node's disk",
    "extra_port": NETWORK,
    "bind_address": NETWORK,
    "binlog_format": REPLICATION,
    "character_sets_dir": LOCATIONS,
    "datadir": LOCATIONS,
    "date_format": OBSOLETE,
    "datetime_format": OBSOLETE,
    "encrypt_binlog": ENCRYPTION,
    "encrypt_tmp_disk_tables": ENCRYPTION,
    "encrypt_tmp_files": ENCRYPTION,
    "general_log_file": LOGGING,
    "gtid_domain_id": REPLICATION,
    "gtid_ignore_duplicates": REPLICATION,
    "gtid_pos_auto_engines": REPLICATION,
    # Replication filters: a replica that skips some of its source's changes is not a copy.
    "replicate_do_db": REPLICATION,
    "replicate_do_table": REPLICATION,
    "replicate_ignore_db": REPLICATION,
    "replicate_ignore_table": REPLICATION,
    "replicate_rewrite_db": REPLICATION,
    "replicate_wild_do_table": REPLICATION,
    "replicate_wild_ignore_table": REPLICATION,
    "gtid_strict_mode": REPLICATION,
    "init_file": "the service uses the init file to set up its own account",
    "init_slave": REPLICATION,
    "innodb_data_file_path": LOCATIONS,
    "innodb_data_home_dir": LOCATIONS,
    "innodb_encrypt_log": ENCRYPTION,
    "innodb_encrypt_tables": ENCRYPTION,
    "innodb_encrypt_temporary_tables": ENCRYPTION,
    "innodb_log_group_home_dir": LOCATIONS,
    "innodb_page_size": FIXED,
    "innodb_temp_data_file_path": LOCATIONS,
    "innodb_tmpdir": LOCATIONS,
    "innodb_undo_directory": LOCATIONS,
    "lc_messages_dir": LOCATIONS,
    "local_infile": "reading files of the node would bypass the sandbox",
    "log_bin": REPLICATION,
    "log_bin_basename": REPLICATION,
    "log_bin_index": REPLICATION,
    "log_error": LOGGING,
    "log_slave_updates": REPLICATION,
    "old_passwords": AUTH + ": new passwords would get the insecure pre-4.1 hash, which logins then refuse",
    "pid_file": LOCATIONS,
    "plugin_dir": LIBRARIES,
    "plugin_maturity": LIBRARIES,
    "port": "the service allocates the node's port",
    "proxy_protocol_networks": NETWORK,
    "read_only": REPLICATION,
    "relay_log": REPLICATION,
    "relay_log_basename": REPLICATION,
    "relay_log_index": REPLICATION,
    "relay_log_info_file": REPLICATION,
    "report_host": REPLICATION,
    "report_password": REPLICATION,
    "report_port": REPLICATION,
    "report_user": REPLICATION,
    "require_secure_transport": "nodes and their replicas connect without TLS, which the service manages",
    "secure_auth": AUTH + ": it lets accounts log in with the insecure pre-4.1 password scheme",
    "secure_file_priv": LOCATIONS,
    "server_id": REPLICATION,
    "skip_grant_tables": AUTH,
    "skip_name_resolve": NETWORK,
    "skip_networking": NETWORK,
    "slow_query_log_file": LOGGING,
    "socket": LOCATIONS,
    "time_format": OBSOLETE,
    "tmpdir": LOCATIONS,
    "tls_version": TLS,
    "user": "node processes run as the service's unprivileged user",
    "version": "the server reports its own version: clients and the service read it",
}
PREFIXES = [
    ("wsrep_", CLUSTER),
    ("ssl_", TLS),
    ("master_", REPLICATION),
    ("slave_", REPLICATION),
    ("rpl_semi_sync_", REPLICATION),
]
NOT_AN_OPTION = "not a server option: a value could not be kept across restarts"
SESSION_ONLY = "a session variable: it has no server-wide value"
READ_ONLY = "read-only: fixed when the server was built or started"
BYTES = re.compile(r"(_size|_buffer|_packet|_bytes|_memory|buffer_pool_chunk_size)$|_size_")
# Named like sizes, but counts (rows, entries, threads, hash buckets, pages, characters) or a
# percentage, as their VARIABLE_COMMENT says.
NOT_BYTES = {
    "aria_pagecache_file_hash_size", "delayed_queue_size", "gtid_cleanup_batch_size",
    "host_cache_size", "innodb_change_buffer_max_size", "innodb_ft_max_token_size",
    "innodb_ft_min_token_size", "innodb_lru_flush_size", "innodb_purge_batch_size",
    "key_cache_file_hash_size", "max_join_size", "metadata_locks_cache_size",
    "myisam_data_pointer_size", "performance_schema_accounts_size",
    "performance_schema_digests_size", "performance_schema_events_stages_history_long_size",
    "performance_schema_events_stages_history_size",
    "performance_schema_events_statements_history_long_size",
    "performance_schema_events_statements_history_size",
    "performance_schema_events_transactions_history_long_size",
    "performance_schema_events_transactions_history_size",
    "performance_schema_events_waits_history_long_size",
    "performance_schema_events_waits_history_size", "performance_schema_hosts_size",
    "performance_schema_setup_actors_size", "performance_schema_setup_objects_size",
    "performance_schema_users_size", "profiling_history_size", "thread_cache_size",
    "thread_pool_size", "wsrep_trx_fragment_size",
}
# Byte counts named otherwise (memory, limits, lengths in bytes), as their VARIABLE_COMMENT or
# the server's documentation says. (innodb_autoextend_increment counts megabytes and
# read_binlog_speed_limit KB/s: a suffix multiplies their number, it is not their unit.)
BYTES_TOO = {
    "analyze_max_length", "aria_checkpoint_log_activity", "column_compression_threshold",
    "group_concat_max_len", "innodb_ft_result_cache_limit", "join_buffer_space_limit",
    "log_bin_compress_min_len", "max_digest_length", "max_length_for_sort_data",
    "max_session_mem_used", "max_sort_length", "net_buffer_length",
    "performance_schema_max_digest_length", "performance_schema_max_sql_text_length",
    "query_cache_limit", "query_cache_min_res_unit", "relay_log_space_limit",
    "slave_parallel_max_queued", "thread_stack",
}
# Text variables that name files or directories on the node.
PATH = re.compile(r"(_dir|_path|_file|_filename|_directory)$")
COLUMNS = ["VARIABLE_NAME", "VARIABLE_TYPE", "NUMERIC_MIN_VALUE", "NUMERIC_MAX_VALUE",
           "ENUM_VALUE_LIST", "DEFAULT_VALUE", "READ_ONLY", "VARIABLE_SCOPE", "VARIABLE_COMMENT"]
I64_MAX = (1 << 63) - 1


def fresh_server(tmp):
    """Starts mariadbd with nothing but a data directory; returns (process, socket)."""
    data, sock = os.path.join(tmp, "data"), os.path.join(tmp, "mysqld.sock")
    root = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", *root,
                    "--auth-root-authentication-method=socket", "--skip-test-db"],
                   check=True, capture_output=True)
    server = subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={sock}",
                               "--skip-networking", f"--pid-file={tmp}/mysqld.pid", *root],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        if subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={sock}", "-uroot", "ping"],
                          capture_output=True).returncode == 0:
            return server, sock
        time.sleep(0.1)
    server.kill()
    sys.exit("mariadbd did not start")


def options(tmp):
    """The options mariadbd takes, in my.cnf as on its command line (`--name`, as `name`)."""
    root = ["--user=root"] if os.geteuid() == 0 else []
    out = subprocess.run(["mariadbd", "--no-defaults", f"--datadir={tmp}/none", *root, "--help",
                          "--verbose"], capture_output=True, text=True, check=True).stdout
    return {m.group(1).replace("-", "_")
            for m in re.finditer(r"^  (?:-\S, )?--([a-z0-9-]+)", out, re.MULTILINE)}


def variables(sock):
    query = ("SELECT " + ", ".join(f"IFNULL({c}, '\\\\N')" for c in COLUMNS) +
             " FROM information_schema.SYSTEM_VARIABLES")
    out = subprocess.run(["mariadb", "--no-defaults", f"--socket={sock}", "-uroot", "-N", "-B", "-r",
                          "-e", query], capture_output=True, text=True, check=True).stdout
    rows = [dict(zip(COLUMNS, line.split("\t"))) for line in out.splitlines() if line]
    for row in rows:
        row["VARIABLE_NAME"] = row["VARIABLE_NAME"].lower()
    return sorted(rows, key=lambda row: row["VARIABLE_NAME"].encode())


def locales(sock):
    """The locales the server knows (`lc_messages`, `lc_time_names`), from the locales plugin."""
    query = ("INSTALL SONAME 'locales'; SELECT NAME FROM information_schema.LOCALES; "
             "UNINSTALL SONAME 'locales';")
    out = subprocess.run(["mariadb", "--no-defaults", f"--socket={sock}", "-uroot", "-N", "-B",
                          "-e", query], capture_output=True, text=True, check=True).stdout
    return sorted({line for line in out.splitlines() if line}, key=str.encode)


def version():
    out = subprocess.run(["mariadbd", "--version"], capture_output=True, text=True).stdout
    return re.search(r"Ver (\d+\.\d+\.\d+)", out).group(1)


def rust_str(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def clamp(text):
    """A bound within i64, exactly: a float would move 2^60 - 1 to 2^60."""
    value = int(text) if re.fullmatch(r"-?\d+", text) else int(float(text))
    return str(max(-I64_MAX - 1, min(I64_MAX, value)))


def is_bytes(name):
    return name in BYTES_TOO or (BYTES.search(name) is not None and name not in NOT_BYTES)


def describe(row):
    kind, name = row["VARIABLE_TYPE"], row["VARIABLE_NAME"]
    if kind == "BOOLEAN":
        return "Boolean", "Range::None", [], None
    if kind == "ENUM" and row["ENUM_VALUE_LIST"] == "\\N":
        # Character sets, collations, engines: names the server knows, listed elsewhere.
        return "Text", "Range::None", [], None
    if kind == "ENUM":
        return "Enumeration", "Range::None", row["ENUM_VALUE_LIST"].split(","), None
    if kind in ("SET", "FLAGSET", "VARCHAR"):
        return "Text", "Range::None", [], None
    if kind == "DOUBLE":
        rng = f"Range::Float({float(row['NUMERIC_MIN_VALUE'])!r}, {float(row['NUMERIC_MAX_VALUE'])!r})"
        return "Float", rng, [], None
    if kind.startswith(("INT", "BIGINT")):
        rng = f"Range::Int({clamp(row['NUMERIC_MIN_VALUE'])}, {clamp(row['NUMERIC_MAX_VALUE'])})"
        if is_bytes(name):
            return "Size", rng, [], "B"
        return "Integer", rng, [], None
    sys.exit(f"unknown VARIABLE_TYPE {kind} for {name}")


def exclusion(row, server_options):
    name = row["VARIABLE_NAME"]
    if name in EXCLUDED:
        return EXCLUDED[name]
    if row["VARIABLE_TYPE"] == "VARCHAR" and PATH.search(name):
        return LOCATIONS
    for prefix, reason in PREFIXES:
        if name.startswith(prefix):
            return reason
    if row["VARIABLE_SCOPE"] == "SESSION ONLY":
        return SESSION_ONLY
    if name not in server_options:
        return READ_ONLY if row["READ_ONLY"] == "YES" else NOT_AN_OPTION
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    args = parser.parse_args()
    full_version = version()
    major_minor = ".".join(full_version.split(".")[:2])
    out_path = args.out or os.path.join(os.path.dirname(__file__), "..", "src",
                                        f"catalog_{major_minor.replace('.', '_')}.rs")

    tmp = tempfile.mkdtemp(prefix="mariadb-catalog-")
    server = None
    try:
        server, sock = fresh_server(tmp)
        rows = variables(sock)
        known_locales = locales(sock)
        server_options = options(tmp)
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    params, excluded = [], []
    for row in rows:
        reason = exclusion(row, server_options)
        if reason:
            excluded.append((row["VARIABLE_NAME"], reason))
        else:
            params.append(row)

    out = [
        f"// @generated by plugins/mariadb/catalog/generate.py from MariaDB {full_version}.",
        "// Do not edit: run `python3 plugins/mariadb/catalog/generate.py` and commit the result.",
        "",
        "use drover_driver_sdk::catalog::{Catalog, Excluded, Kind, Param, Range};",
        "",
        "use crate::units::UNITS;",
        "",
        f"/// MariaDB {major_minor}: {len(params)} parameters users may set, {len(excluded)} the service controls.",
        "pub static CATALOG: Catalog = Catalog {",
        "    datastore: \"mariadb\",",
        f"    version: {rust_str(major_minor)},",
        "    params: PARAMS,",
        "    excluded: EXCLUDED,",
        "    units: &UNITS,",
        "    booleans: (\"ON\", \"OFF\"),",
        "};",
        "",
        "static PARAMS: &[Param] = &[",
    ]
    for row in params:
        kind, rng, allowed, unit = describe(row)
        default = "None" if row["DEFAULT_VALUE"] == "\\N" else f"Some({rust_str(row['DEFAULT_VALUE'])})"
        out += [
            "    Param {",
            f"        name: {rust_str(row['VARIABLE_NAME'])},",
            f"        kind: Kind::{kind},",
            f"        range: {rng},",
            f"        allowed: &[{', '.join(rust_str(v) for v in allowed)}],",
            f"        unit: {'Some(' + rust_str(unit) + ')' if unit else 'None'},",
            f"        dynamic: {'true' if row['READ_ONLY'] == 'NO' else 'false'},",
            f"        default: {default},",
            f"        description: {rust_str(row['VARIABLE_COMMENT'])},",
            "    },",
        ]
    out += ["];", "", "static EXCLUDED: &[Excluded] = &["]
    for name, reason in excluded:
        out += ["    Excluded {", f"        name: {rust_str(name)},", f"        reason: {rust_str(reason)},", "    },"]
    out += ["];", ""]
    sets = [row for row in params if row["VARIABLE_TYPE"] in ("SET", "FLAGSET")]
    out += [
        "/// The members of the set-valued parameters (SET: a comma-separated list of them;",
        "/// FLAGSET: `name=on|off|default` items), by parameter, sorted by name.",
        "pub static SETS: &[(&str, bool, &[&str])] = &[",
    ]
    for row in sets:
        members = ", ".join(rust_str(v) for v in row["ENUM_VALUE_LIST"].split(","))
        flags = "true" if row["VARIABLE_TYPE"] == "FLAGSET" else "false"
        out += [f"    ({rust_str(row['VARIABLE_NAME'])}, {flags}, &[{members}]),"]
    out += ["];", "",
            "/// The locales the server knows (`lc_messages`, `lc_time_names`), sorted bytewise.",
            "pub static LOCALES: &[&str] = &["]
    out += [f"    {rust_str(name)}," for name in known_locales]
    out += ["];", ""]
    with open(out_path, "w") as f:
        f.write("\n".join(out))
    print(f"{out_path}: {len(params)} parameters, {len(excluded)} excluded")


if __name__ == "__main__":
    main()
