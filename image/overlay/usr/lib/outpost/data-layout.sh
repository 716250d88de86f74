#!/bin/sh
# outpost-data-layout.service: the booted slot's /var overlay folders on /data, and
# /data/var/slot pointing at them (fstab's /var overlay goes through that link).
set -eu
slot="$(sed -n 's/.*rauc\.slot=\([AB]\).*/\1/p' /proc/cmdline)"
slot="${slot:-A}"
mkdir -p "/data/var/$slot/upper" "/data/var/$slot/work"
ln -sfn "$slot" /data/var/slot
