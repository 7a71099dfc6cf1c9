#!/usr/bin/env python3
"""Generates the Redis driver's parameter catalog from a real redis-server.

What the server says is the source of truth:
  - the parameter names and defaults come from `CONFIG GET *` on a freshly started server;
  - the type, range and allowed values of each parameter come from the server's own error
    messages when it is given a value it cannot take (`argument must be 'yes' or 'no'`,
    `argument must be between 1 and 4294967295 inclusive`, `must be one of the following: ...`);
  - a parameter is dynamic when `CONFIG SET` accepts it and restart-required when the server
    answers "can't set immutable config" (those are probed on the command line of a server that
    is told not to listen, so it only parses its configuration and exits);
  - descriptions come from the documented redis.conf shipped with the server package.
The parameters the service controls itself are listed in EXCLUDED below, with the reason a user
sees. Every name the server reports ends up either in the catalog or in the excluded list.

Usage: generate.py [--redis-server PATH] [--redis-conf /etc/redis/redis.conf] [--out FILE]
The output (src/catalog_7_0.rs by default) is checked in.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# Parameters Drover must control itself. A value for them is refused with this reason.
EXCLUDED = {
    "aclfile": "ACL files are managed through the users API",
    "always-show-logo": "log formatting is controlled by the service",
    "appenddirname": "file locations are controlled by the service",
    "appendfilename": "file locations are controlled by the service",
    "bind": "the service decides which addresses a node listens on",
    "bind-source-addr": "the service decides which addresses a node uses",
    "cluster-announce-bus-port": "cluster networking is controlled by the service",
    "cluster-announce-hostname": "cluster networking is controlled by the service",
    "cluster-announce-ip": "cluster networking is controlled by the service",
    "cluster-announce-port": "cluster networking is controlled by the service",
    "cluster-announce-tls-port": "cluster networking is controlled by the service",
    "cluster-config-file": "file locations are controlled by the service",
    "cluster-enabled": "clustering is managed through the clusters API",
    "cluster-port": "cluster networking is controlled by the service",
    "cluster-preferred-endpoint-type": "cluster networking is controlled by the service",
    "daemonize": "the service supervises the server process",
    "dbfilename": "file locations are controlled by the service",
    "dir": "file locations are controlled by the service",
    "enable-debug-command": "DEBUG would let users crash or inspect the server",
    "enable-module-command": "loading modules would run arbitrary code on the node",
    "enable-protected-configs": "protected configuration must stay protected",
    "logfile": "file locations are controlled by the service",
    "masterauth": "replication credentials are managed through the replication API",
    "masteruser": "replication credentials are managed through the replication API",
    "oom-score-adj": "process priorities are controlled by the service",
    "oom-score-adj-values": "process priorities are controlled by the service",
    "pidfile": "file locations are controlled by the service",
    "port": "the service allocates the node's port",
    "protected-mode": "network protection is controlled by the service",
    "replica-announce-ip": "replication is managed through the replication API",
    "replica-announce-port": "replication is managed through the replication API",
    "replica-announced": "replication is managed through the replication API",
    "replica-read-only": "replicas are always read-only; replication is managed through the replication API",
    "replicaof": "replication is managed through the replication API",
    "requirepass": "the password is managed through the root API",
    "set-proc-title": "process titles are controlled by the service",
    "proc-title-template": "process titles are controlled by the service",
    "supervised": "the service supervises the server process",
    "syslog-enabled": "logging is controlled by the service",
    "syslog-facility": "logging is controlled by the service",
    "syslog-ident": "logging is controlled by the service",
    "unixsocket": "file locations are controlled by the service",
    "unixsocketperm": "the service's own access to the node depends on it",
    "socket-mark-id": "network settings are controlled by the service",
    "server_cpulist": "CPU placement is controlled by the service",
    "bio_cpulist": "CPU placement is controlled by the service",
    "aof_rewrite_cpulist": "CPU placement is controlled by the service",
    "bgsave_cpulist": "CPU placement is controlled by the service",
}
# Redis 7.0 still reports the old names of renamed parameters; they are aliases of the new ones.
ALIAS_RENAMES = (("slaveof", "replicaof"), ("slave", "replica"), ("slaves", "replicas"), ("ziplist", "listpack"))


def canonical(name, names):
    """The parameter `name` is an alias of, if it is one."""
    for old, new in ALIAS_RENAMES:
        candidate = re.sub(rf"(^|-){old}(-|$)", rf"\g<1>{new}\g<2>", name)
        if candidate != name and candidate in names:
            return candidate
    return None


# Every tls-* parameter: certificates and TLS ports are provisioned by the service.
TLS_REASON = "TLS certificates and ports are provisioned by the service"

# Integer parameters measured in a unit the documentation names; shown as the parameter's unit.
UNITS = {
    "timeout": "s", "tcp-keepalive": "s", "repl-ping-replica-period": "s", "repl-timeout": "s",
    "repl-backlog-ttl": "s", "repl-diskless-sync-delay": "s", "repl-diskless-sync-max-replicas": None,
    "lua-time-limit": "ms", "busy-reply-threshold": "ms", "cluster-node-timeout": "ms",
    "slowlog-log-slower-than": "us", "latency-monitor-threshold": "ms", "shutdown-timeout": "s",
    "active-defrag-cycle-min": "%", "active-defrag-cycle-max": "%", "active-defrag-threshold-lower": "%",
    "active-defrag-threshold-upper": "%", "auto-aof-rewrite-percentage": "%", "hz": "Hz",
    "lfu-decay-time": "min", "min-replicas-max-lag": "s", "watchdog-period": "ms",
}

INT_MIN, INT_MAX = -9223372036854775808, 9223372036854775807
RANGE = re.compile(r"between (-?\d+) and (-?\d+) inclusive")
ONE_OF = re.compile(r"must be one of the following: (.*)$")


class Resp:
    """A minimal RESP2 client: enough for CONFIG GET and CONFIG SET."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for arg in args:
            data = arg.encode()
            out += b"$%d\r\n%s\r\n" % (len(data), data)
        self.sock.sendall(out)
        return self.read()

    def read(self):
        line = self.file.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:].decode()
        if kind == b"+":
            return rest
        if kind == b"-":
            return Error(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)[:-2]
            return data.decode()
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        raise RuntimeError(f"unexpected reply {line!r}")


class Error(str):
    pass


def reason(error):
    """The part of a CONFIG SET error after the generic prefix."""
    text = str(error)
    return text.split(" - ", 1)[1] if " - " in text else text


def startup_error(server, name, value):
    """What a server that only parses its configuration says about `name value`."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            run = subprocess.run(
                [server, "--port", "0", "--save", "", "--dir", tmp, f"--{name}", value],
                capture_output=True, text=True, timeout=10,
            )
        except subprocess.TimeoutExpired:
            return "OK"
    out = run.stdout + run.stderr
    if "FATAL CONFIG FILE ERROR" in out:
        lines = [l for l in out.splitlines() if l.strip()]
        return lines[-1].strip()
    return "OK"


def classify(probe):
    """Type, range and allowed values of a parameter from how it answers bad values."""
    first = probe("__drover_probe__")
    if first == "OK":
        return {"kind": "Text"}
    if "must be 'yes' or 'no'" in first:
        return {"kind": "Boolean"}
    match = ONE_OF.search(first)
    if match:
        return {"kind": "Enumeration", "allowed": [v.strip() for v in match.group(1).split(",")]}
    if "parsed into an integer" in first:
        return {"kind": "Integer", "range": probe_range(probe)}
    if "memory" in first:
        return {"kind": "Size", "range": probe_range(probe, low="0"), "percent": "percent" in first}
    return {"kind": "Text", "syntax": first}


def probe_range(probe, low=str(INT_MIN)):
    lo, hi = None, None
    for value in (low, str(INT_MAX)):
        match = RANGE.search(probe(value))
        if match:
            lo, hi = int(match.group(1)), int(match.group(2))
            break
    if lo is None:
        lo, hi = int(low), INT_MAX
    return (lo, hi)


def descriptions(conf_path, names):
    """The first paragraph of the comment block documenting each directive in redis.conf."""
    if not conf_path or not os.path.exists(conf_path):
        return {}
    lines = open(conf_path, encoding="utf-8", errors="replace").read().splitlines()
    directive = re.compile(r"^#?\s?([a-z][a-z0-9-]+)(\s|$)")

    def directive_name(line):
        match = directive.match(line)
        return match.group(1) if match and match.group(1) in names else None

    found = {}
    for index, line in enumerate(lines):
        name = directive_name(line)
        if name is None or name in found:
            continue
        # Walk back over sibling directives, then collect the comment block above them.
        j = index - 1
        while j >= 0 and directive_name(lines[j]):
            j -= 1
        block = []
        while j >= 0 and lines[j].startswith("#") and not directive_name(lines[j]):
            block.append(lines[j][1:].strip())
            j -= 1
        block.reverse()
        paragraphs, current = [], []
        for text in block:
            if not text:
                if current:
                    paragraphs.append(" ".join(current))
                current = []
            else:
                current.append(text)
        if current:
            paragraphs.append(" ".join(current))
        paragraphs = [p for p in paragraphs if not p.isupper() and "####" not in p]
        if paragraphs:
            text = paragraphs[0]
            if len(text) > 400:
                text = text[:397].rsplit(" ", 1)[0] + "..."
            found[name] = text
    return found


def rust_str(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    parser.add_argument("--redis-conf", default="/etc/redis/redis.conf")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "src", "catalog_7_0.rs"))
    parser.add_argument("--port", type=int, default=26899)
    args = parser.parse_args()

    version_line = subprocess.run([args.redis_server, "--version"], capture_output=True, text=True).stdout
    full_version = re.search(r"v=(\d+\.\d+\.\d+)", version_line).group(1)
    version = ".".join(full_version.split(".")[:2])

    tmp = tempfile.mkdtemp(prefix="redis-catalog-")
    server = subprocess.Popen(
        [args.redis_server, "--port", str(args.port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", tmp, "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                client = Resp(args.port)
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("redis-server did not start")
        pairs = client.call("CONFIG", "GET", "*")
        defaults = dict(zip(pairs[0::2], pairs[1::2]))
        docs = descriptions(args.redis_conf, set(defaults))

        params, excluded = [], []
        for name in sorted(defaults):
            alias_of = canonical(name, defaults)
            if alias_of:
                if alias_of in EXCLUDED:
                    why = f"an old name of {alias_of}: {EXCLUDED[alias_of]}"
                else:
                    why = f"an old name of {alias_of}; set {alias_of} instead"
                excluded.append((name, why))
                continue
            if name in EXCLUDED or name.startswith("tls-"):
                excluded.append((name, EXCLUDED.get(name, TLS_REASON)))
                continue
            immutable = "immutable" in reason(client.call("CONFIG", "SET", name, defaults[name]))

            def probe(value, name=name, immutable=immutable):
                if immutable:
                    return startup_error(args.redis_server, name, value)
                answer = client.call("CONFIG", "SET", name, value)
                return "OK" if answer == "OK" else reason(answer)

            info = classify(probe)
            if not immutable:
                client.call("CONFIG", "SET", name, defaults[name])
            info.update(name=name, dynamic=not immutable, default=defaults[name],
                        description=docs.get(name, ""))
            params.append(info)
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    out = []
    out.append(f"// @generated by plugins/redis/catalog/generate.py from redis-server {full_version}.")
    out.append("// Do not edit: run `python3 plugins/redis/catalog/generate.py` (needs redis-server) and commit the result.")
    out.append("")
    out.append("use drover_driver_sdk::catalog::{Catalog, Excluded, Kind, Param, Range};")
    out.append("")
    out.append("use crate::units::UNITS;")
    out.append("")
    out.append(f"/// Redis {version}: {len(params)} parameters users may set, {len(excluded)} the service controls.")
    out.append(f"pub static CATALOG: Catalog = Catalog {{")
    out.append(f"    datastore: \"redis\",")
    out.append(f"    version: {rust_str(version)},")
    out.append("    params: PARAMS,")
    out.append("    excluded: EXCLUDED,")
    out.append("    units: &UNITS,")
    out.append("    booleans: (\"yes\", \"no\"),")
    out.append("};")
    out.append("")
    out.append("static PARAMS: &[Param] = &[")
    for p in params:
        kind = p["kind"]
        rng = p.get("range")
        range_text = f"Range::Int({rng[0]}, {rng[1]})" if rng else "Range::None"
        allowed = ", ".join(rust_str(v) for v in p.get("allowed", []))
        unit = "Some(\"B\")" if kind == "Size" else (f"Some({rust_str(UNITS[p['name']])})" if UNITS.get(p["name"]) else "None")
        description = p["description"]
        if p.get("syntax"):
            description = (description + " " if description else "") + f"Syntax checked by the server: {p['syntax']}."
        out.append("    Param {")
        out.append(f"        name: {rust_str(p['name'])},")
        out.append(f"        kind: Kind::{kind},")
        out.append(f"        range: {range_text},")
        out.append(f"        allowed: &[{allowed}],")
        out.append(f"        unit: {unit},")
        out.append(f"        dynamic: {'true' if p['dynamic'] else 'false'},")
        out.append(f"        default: Some({rust_str(p['default'])}),")
        out.append(f"        description: {rust_str(description)},")
        out.append("    },")
    out.append("];")
    out.append("")
    out.append("static EXCLUDED: &[Excluded] = &[")
    for name, why in sorted(excluded):
        out.append(f"    Excluded {{ name: {rust_str(name)}, reason: {rust_str(why)} }},")
    out.append("];")
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")
    # Checked-in code is rustfmt-clean, so `cargo fmt --check` passes right after regenerating.
    subprocess.run(["rustfmt", "--edition", "2024", args.out], check=True)
    print(f"wrote {args.out}: {len(params)} parameters, {len(excluded)} excluded (redis {full_version})")


if __name__ == "__main__":
    main()
