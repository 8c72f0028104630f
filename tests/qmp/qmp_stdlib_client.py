#!/usr/bin/env python3
"""A QMP client written the way a new user would: Python's standard library over a Unix socket.

Usage: qmp_stdlib_client.py SOCKET
Drives a full session and prints one JSON line per step ({"step": ..., "reply": ...}) so the test
that runs it can check every answer. It knows nothing about VM Studio: only QEMU's QMP protocol.
"""
import json
import socket
import sys


class QMP:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.file = self.sock.makefile("rw", encoding="utf-8", newline="\n")
        self.events = []
        self.greeting = json.loads(self.file.readline())

    def cmd(self, name, **args):
        msg = {"execute": name, "id": name}
        if args:
            msg["arguments"] = args
        self.file.write(json.dumps(msg) + "\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "event" in reply:
                self.events.append(reply)
                continue
            return reply

    def wait_event(self, name):
        while True:
            for i, ev in enumerate(self.events):
                if ev["event"] == name:
                    return self.events.pop(i)
            self.events.append(json.loads(self.file.readline()))


def walk(qmp, path, out, depth=0):
    """List the composition tree the way `info qom-tree` does, through qom-list alone."""
    for prop in qmp.cmd("qom-list", path=path)["return"]:
        if prop["type"].startswith("child<"):
            child = path.rstrip("/") + "/" + prop["name"]
            out.append(child)
            if depth < 8:
                walk(qmp, child, out, depth + 1)


def main():
    qmp = QMP(sys.argv[1])
    log = lambda step, reply: print(json.dumps({"step": step, "reply": reply}), flush=True)
    log("greeting", qmp.greeting)
    log("before-negotiation", qmp.cmd("query-status"))
    log("qmp_capabilities", qmp.cmd("qmp_capabilities"))
    log("query-status", qmp.cmd("query-status"))
    tree = []
    walk(qmp, "/", tree)
    log("tree", tree)
    log("qom-get-type", qmp.cmd("qom-get", path="/machine", property="type"))
    log("qom-list-types", qmp.cmd("qom-list-types", implements="device", abstract=False))
    log("device-list-properties", qmp.cmd("device-list-properties", typename="vmstudio-test-device"))
    log("object-add", qmp.cmd("object-add", **{"qom-type": "rng-random", "id": "rng0", "filename": "/dev/urandom"}))
    log("object-add-dup", qmp.cmd("object-add", **{"qom-type": "rng-builtin", "id": "rng0"}))
    log("qom-get-filename", qmp.cmd("qom-get", path="/objects/rng0", property="filename"))
    log("device_add", qmp.cmd("device_add", driver="vmstudio-test-device", id="dev0", bus="br0.0"))
    log("qom-set", qmp.cmd("qom-set", path="/machine/peripheral/dev0", property="doorbell", value=4242))
    log("qom-set-static", qmp.cmd("qom-set", path="dev0", property="u32", value=1))
    log("qom-get-doorbell", qmp.cmd("qom-get", path="dev0", property="doorbell"))
    log("qom-set-bad", qmp.cmd("qom-set", path="dev0", property="doorbell", value="x"))
    log("device_add-bad", qmp.cmd("device_add", driver="no-such-device"))
    log("device_del", qmp.cmd("device_del", id="dev0"))
    log("DEVICE_DELETED", qmp.wait_event("DEVICE_DELETED"))
    log("device_del-gone", qmp.cmd("device_del", id="dev0"))
    log("object-del", qmp.cmd("object-del", id="rng0"))
    log("unknown", qmp.cmd("no-such-command"))
    log("stop", qmp.cmd("stop"))
    log("STOP", qmp.wait_event("STOP"))
    log("quit", qmp.cmd("quit"))
    log("SHUTDOWN", qmp.wait_event("SHUTDOWN"))


if __name__ == "__main__":
    main()
