#!/usr/bin/env bash
# The lab floor for a rollout: per site one `scp` of the artifact, one compound `ssh`
# (sha256 check, backup, apply, restart) and one HTTP health check with curl — OpenSSH's
# clients, 50 sites in parallel, curve25519. What no tool can beat on this machine.
#   scripts/bench/floor.sh LAB_ROOT ARTIFACT [PARALLEL=50]
set -euo pipefail
root=$1
artifact=$2
parallel=${3:-50}
sum=$(sha256sum "$artifact" | cut -c1-64)
key=$root/secrets/id_ed25519
known=$root/known_hosts
port=$(python3 -c "import json,sys; print(json.load(open('$root/lab.json'))['ssh_port'])")
http=$(python3 -c "import json,sys; print(json.load(open('$root/lab.json'))['http_port'])")
user=$(python3 -c "import json,sys; print(json.load(open('$root/lab.json'))['user'])")
python3 - "$root" > /tmp/floor-sites.$$ <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + "/lab.json"))
for s in m["sites"]:
    print(s["address"], s["dir"])
PY
one() {
  addr=$1 dir=$2
  opts=(-q -o BatchMode=yes -o UserKnownHostsFile="$known" -o KexAlgorithms=curve25519-sha256 -i "$key")
  scp "${opts[@]}" -P "$port" "$artifact" "$user@$addr:$dir/deploy/app.war.new" || return 1
  ssh "${opts[@]}" -p "$port" "$user@$addr" \
    "cd $dir && [ \"\$(sha256sum < deploy/app.war.new | cut -c1-64)\" = $sum ] \
     && { [ -e deploy/app.war ] && cp -p deploy/app.war backup/app.war || true; } \
     && mv -f deploy/app.war.new deploy/app.war && echo floor > app/VERSION \
     && app/shutdown.sh >/dev/null && app/startup.sh >/dev/null" || return 1
  curl -fsS -m 5 -o /dev/null "http://$addr:$http/health" || return 1
}
export -f one
export artifact key known port http user sum
start=$(date +%s.%N)
xargs -P "$parallel" -L 1 bash -c 'one "$0" "$1" || echo "floor: $0 failed" >&2' < /tmp/floor-sites.$$
end=$(date +%s.%N)
sites=$(wc -l < /tmp/floor-sites.$$)
rm -f /tmp/floor-sites.$$
python3 -c "print(f'floor: {$sites} sites in {($end - $start):.1f} s (scp + ssh + curl per site, {$parallel} parallel)')"
