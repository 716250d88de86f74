#!/bin/sh
# Entrypoint of the Outpost container (Dockerfile.arm64, docs/container.md). On the first start
# of an empty /data volume it writes /data/outpost.yaml, as the box's first boot does: from
# /data/outpost-firstboot.conf when one is there (the flash tool's format: site, hub, claim,
# node; docs/flash.md), else a standalone node. Then it runs the agent as user outpost with the
# one capability SIP on 5060 needs.
#   OUTPOST_NODE_ID      node id (default: the firstboot file's node, else ct- and the hostname)
#   OUTPOST_RTP_ADDRESS  address written into SDP (default: the container's own address)
set -eu
config=/data/outpost.yaml
if [ ! -f "$config" ]; then
  install -d -o outpost -g outpost -m 0750 /data/outpost
  first=/data/outpost-firstboot.conf
  # A value of the firstboot file, if it has only the characters the flash tool writes.
  val() {
    v=""
    [ -f "$first" ] && v="$(sed -n "s/^$1=//p" "$first" | head -n 1)"
    case "$v" in *[!]A-Za-z0-9:/.[-]*) echo "outpost-container: ignoring $1 in $first (unexpected characters)" >&2; v="" ;; esac
    printf '%s' "$v"
  }
  site="$(val site)" node="$(val node)" hub="$(val hub)" claim="$(val claim)"
  addr="${OUTPOST_RTP_ADDRESS:-$(ip -4 -o route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')}"
  [ -n "$addr" ] || addr=127.0.0.1
  host="$(tr -cd 'a-z0-9-' </proc/sys/kernel/hostname | cut -c1-12)"
  id="${OUTPOST_NODE_ID:-${node:-ct-${host:-1}}}"
  sed -e "s/@NODE_ID@/$id/" -e "s/@RTP_ADDRESS@/$addr/" -e "s/site: site }/site: ${site:-site} }/" \
    /usr/share/outpost/outpost.yaml.in >"$config.tmp"
  if [ -n "$hub" ] && [ -n "$claim" ]; then
    printf '# From %s: enrol with the hub at the first start.\nenrol: { hub: "%s", claim: "%s" }\n' "$first" "$hub" "$claim" >>"$config.tmp"
  fi
  chown root:outpost "$config.tmp"
  chmod 0640 "$config.tmp"
  mv "$config.tmp" "$config"
  echo "outpost-container: wrote $config (node $id, site ${site:-site}, rtp.address $addr${hub:+, enrols with $hub})"
fi
install -d -o outpost -g outpost -m 0700 /data/outpost/tmp
export NODE_ENV=production TSX_TSCONFIG_PATH=/opt/outpost/tsconfig.json TMPDIR=/data/outpost/tmp
cd /data/outpost
exec setpriv --reuid=outpost --regid=outpost --clear-groups \
  --inh-caps=+net_bind_service --ambient-caps=+net_bind_service \
  /usr/local/bin/node /opt/outpost/bin/outpost.js node --config "$config" "$@"
