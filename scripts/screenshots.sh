#!/usr/bin/env bash
# Refreshes the README's screenshots (docs/services.png, service.png, phone.png, events.png,
# register.png): builds the site (scripts/build-site.sh; `--no-build` uses the one there), then
# photographs a console watching a demo fleet of about 40 go-micro services
# (end2end/screenshots.mjs) with Debian's Chromium.
#
# Everything runs in a private network namespace, as end2end/run.sh does: a dummy interface
# carries the consoles' multicast DNS, and loopback answers for 10.0.0.0/16 so the demo nodes'
# addresses are reachable there (and nowhere else). Nothing reaches a real network. Needs root.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MUSTER_ROOT"

if [ "${MUSTER_SHOTS_IN_NETNS:-}" != 1 ]; then
    if [ "${1:-}" != --no-build ]; then
        scripts/build-site.sh
    fi
    exec env MUSTER_SHOTS_IN_NETNS=1 unshare --net -- "$MUSTER_ROOT/scripts/screenshots.sh"
fi

ip link set lo up
# A LAN interface that leads nowhere (one end of a veth pair whose other end is unused;
# multicast is looped back to this namespace's own sockets), so the consoles run mDNS as on a
# real LAN.
ip link add lan0 type veth peer name lan1
ip link set lan1 up
ip link set lan0 multicast on up
ip addr add 192.168.50.1/24 dev lan0
ip route add 224.0.0.0/4 dev lan0
# Every 10.0.x.y is this namespace's own, as 127.x.y.z is: the demo nodes' addresses.
ip route add local 10.0.0.0/16 dev lo

say "taking the screenshots (docs/*.png)"
node end2end/screenshots.mjs
say "done: $(cd docs && ls ./*.png | tr '\n' ' ')"
