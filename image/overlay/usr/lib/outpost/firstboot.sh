#!/bin/sh
# outpost-firstboot.service: writes /data/outpost.yaml once. The node id comes from the first
# Ethernet MAC; rtp.address from the address of the default route (SDP needs a concrete one).
# A provisioning tool may put a ready config on the boot partition as outpost/outpost.yaml, or
# outpost-flash a first-boot file (site, node, hub, claim) on the data partition.
set -eu
install -d -o outpost -g outpost -m 0750 /data/outpost
provided=""
if [ -b /dev/disk/by-partlabel/boot ]; then
  mkdir -p /run/outpost-boot
  if mount -o ro /dev/disk/by-partlabel/boot /run/outpost-boot 2>/dev/null; then
    if [ -f /run/outpost-boot/outpost/outpost.yaml ]; then
      install -o root -g outpost -m 0640 /run/outpost-boot/outpost/outpost.yaml /data/outpost.yaml.tmp
      provided=yes
    fi
    umount /run/outpost-boot
  fi
fi
if [ -z "$provided" ]; then
  addr=""
  for _ in $(seq 1 30); do
    addr="$(ip -4 -o route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')"
    [ -n "$addr" ] && break
    sleep 1
  done
  [ -n "$addr" ] || { echo "firstboot: no IPv4 address after 30 s; rtp.address set to 127.0.0.1" >&2; addr=127.0.0.1; }
  mac="$(cat /sys/class/net/e*/address 2>/dev/null | head -n 1 | tr -d ':')"
  id="box-${mac#??????}"
  [ "$id" != box- ] || id=box-1
  # The flash tool's first-boot file (docs/flash.md#the-first-boot-file): site, hub, claim, node,
  # and optionally broker (the hub's mqtts:// address when it is not on the enrolment host:8883).
  first=/data/outpost-firstboot.conf
  val() {
    v=""
    [ -f "$first" ] && v="$(sed -n "s/^$1=//p" "$first" | head -n 1)"
    case "$v" in *[!]A-Za-z0-9:/.[-]*) echo "firstboot: ignoring $1 in $first (unexpected characters)" >&2; v="" ;; esac
    printf '%s' "$v"
  }
  site="$(val site)" node="$(val node)" hub="$(val hub)" claim="$(val claim)" broker="$(val broker)"
  [ -z "$node" ] || id="$node"
  sed -e "s/@NODE_ID@/$id/" -e "s/@RTP_ADDRESS@/$addr/" -e "s/site: site }/site: ${site:-site} }/" \
    /usr/share/outpost/outpost.yaml.in >/data/outpost.yaml.tmp
  if [ -n "$hub" ] && [ -n "$claim" ]; then
    printf 'enrol: { hub: "%s", claim: "%s" }\n' "$hub" "$claim" >>/data/outpost.yaml.tmp
    # The hub's broker, which the box replicates with (offers and permits arrive that way): the
    # file's broker=, else the enrolment host on the hub's default broker port (mqtts, 8883).
    if [ -z "$broker" ]; then
      host="${hub#https://}"
      host="${host%/*}"
      case "$host" in \[*\]*) host="${host%%]*}]" ;; *) host="${host%:*}" ;; esac
      broker="mqtts://$host:8883"
    fi
    printf 'hub: { url: "%s" }\n' "$broker" >>/data/outpost.yaml.tmp
  fi
  chown root:outpost /data/outpost.yaml.tmp
  chmod 0640 /data/outpost.yaml.tmp
fi
mv /data/outpost.yaml.tmp /data/outpost.yaml
echo "firstboot: wrote /data/outpost.yaml"
