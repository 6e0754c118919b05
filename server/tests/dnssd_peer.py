"""An independent DNS-SD peer for server/tests/dnssd.rs: python-zeroconf, not mdns-sd.

    dnssd_peer.py --ip 10.78.0.2 browse _http._tcp.local. [_micro._tcp.local. ...]
        Prints one JSON line per event: {"event": "resolved", "type", "name", "server",
        "port", "addresses", "txt": [[key, value], ...]} when an instance resolves or changes,
        {"event": "removed", "type", "name"} when it leaves. Runs until stdin closes.

    dnssd_peer.py --ip 10.78.0.2 publish _ipp._tcp.local. "Peer printer" 631 key=value ...
        Publishes the instance (a value `0x<hex>` is sent as raw bytes), prints {"event": "published", "name"}, keeps it until stdin
        closes, then unregisters it (a goodbye) and prints {"event": "unpublished"}.

Only the given address's interface is used: the test runs this inside a network namespace.
"""

import argparse
import json
import socket
import sys
import threading

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf

print_lock = threading.Lock()


def emit(**fields):
    with print_lock:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()


def decode(raw):
    return raw.decode("utf-8", "replace") if raw is not None else ""


def browse(zc, types):
    def changed(zeroconf, service_type, name, state_change):
        if state_change is ServiceStateChange.Removed:
            emit(event="removed", type=service_type, name=name)
            return
        info = zeroconf.get_service_info(service_type, name, timeout=3000)
        if info is None:
            emit(event="unresolved", type=service_type, name=name)
            return
        emit(
            event="resolved",
            type=service_type,
            name=name,
            server=info.server,
            port=info.port,
            addresses=sorted(info.parsed_addresses()),
            txt=[[decode(k), decode(v)] for k, v in info.properties.items()],
        )

    browsers = [ServiceBrowser(zc, t, handlers=[changed]) for t in types]
    emit(event="browsing", types=types)
    sys.stdin.read()
    for browser in browsers:
        browser.cancel()


def publish(zc, ip, service_type, instance, port, pairs):
    # A value written `0x<hex>` is sent as those raw bytes (non-UTF-8 TXT, to test receivers).
    properties = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        properties[key] = bytes.fromhex(value[2:]) if value.startswith("0x") else value
    info = ServiceInfo(
        service_type,
        f"{instance}.{service_type}",
        addresses=[socket.inet_aton(ip)],
        port=port,
        properties=properties,
        server="dnssd-peer.local.",
    )
    zc.register_service(info)
    emit(event="published", name=info.name)
    sys.stdin.read()
    zc.unregister_service(info)
    emit(event="unpublished", name=info.name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ip", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("browse")
    b.add_argument("types", nargs="+")
    p = sub.add_parser("publish")
    p.add_argument("type")
    p.add_argument("instance")
    p.add_argument("port", type=int)
    p.add_argument("txt", nargs="*")
    args = parser.parse_args()
    zc = Zeroconf(interfaces=[args.ip], ip_version=IPVersion.V4Only)
    try:
        if args.command == "browse":
            browse(zc, args.types)
        else:
            publish(zc, args.ip, args.type, args.instance, args.port, args.txt)
    finally:
        zc.close()


if __name__ == "__main__":
    main()
