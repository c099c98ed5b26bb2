#!/usr/bin/env bash
# The Ansible anchor for a rollout: ansible-core from PyPI (pinned, in a venv under
# ~/.cache/guardia), forks 50, pipelining, ControlPersist; an equivalent playbook — per site
# pre-check, stage the artifact (copy verifies its checksum), backup, apply, restart, health
# check with retries, rollback for failing sites — in the default plan's batches
# (serial: 1, 9 %, then 50 at a time; Ansible's failure budget is per batch only).
#   scripts/bench/ansible.sh LAB_ROOT ARTIFACT
set -euo pipefail
root=$1
artifact=$(realpath "$2")
venv=${XDG_CACHE_HOME:-$HOME/.cache}/guardia/ansible-venv
if [ ! -x "$venv/bin/ansible-playbook" ]; then
  command -v python3 >/dev/null || sudo apt-get install -y python3
  python3 -m venv "$venv" 2>/dev/null || { sudo apt-get install -y python3-venv && python3 -m venv "$venv"; }
  "$venv/bin/pip" install --quiet 'ansible-core==2.17.7'
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$root" "$work" <<'PY'
import json, sys
root, work = sys.argv[1], sys.argv[2]
m = json.load(open(root + "/lab.json"))
with open(work + "/hosts.ini", "w") as f:
    f.write("[lab]\n")
    for s in m["sites"]:
        f.write(f"{s['name']} ansible_host={s['address']} ansible_port={m['ssh_port']} "
                f"ansible_user={m['user']} site_dir={s['dir']}\n")
    f.write(f"\n[lab:vars]\nhttp_port={m['http_port']}\nansible_python_interpreter=/usr/bin/python3\n")
with open(work + "/ansible.cfg", "w") as f:
    f.write(f"""[defaults]
forks = 50
host_key_checking = True
inventory = {work}/hosts.ini
private_key_file = {root}/secrets/id_ed25519
retry_files_enabled = False
gathering = explicit
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile={root}/known_hosts -o KexAlgorithms=curve25519-sha256
""")
PY
cat > "$work/rollout.yml" <<'YML'
- hosts: lab
  gather_facts: false
  serial: [1, "9%", 50]
  tasks:
    - block:
        - name: pre-check free disk
          shell: df -Pm {{ site_dir }}/deploy | awk 'NR==2 {print $4}'
          register: free
          changed_when: false
          failed_when: free.stdout | int < 64
        - name: stage the artifact (checksum verified)
          copy:
            src: "{{ artifact }}"
            dest: "{{ site_dir }}/deploy/app.war.new"
        - name: backup
          shell: "{ [ -e deploy/app.war ] && cp -p deploy/app.war backup/app.war || true; } && cp -p app/VERSION backup/VERSION"
          args: { chdir: "{{ site_dir }}" }
        - name: apply
          shell: mv -f deploy/app.war.new deploy/app.war && echo ansible > app/VERSION
          args: { chdir: "{{ site_dir }}" }
        - name: restart
          shell: app/shutdown.sh && app/startup.sh
          args: { chdir: "{{ site_dir }}" }
        - name: health
          uri:
            url: "http://{{ ansible_host }}:{{ http_port }}/health"
          register: health
          until: health.status == 200
          retries: 3
          delay: 1
          delegate_to: localhost
      rescue:
        - name: rollback
          shell: "cp -p backup/VERSION app/VERSION && { [ -e backup/app.war ] && cp -p backup/app.war deploy/app.war || rm -f deploy/app.war; } && app/shutdown.sh && app/startup.sh"
          args: { chdir: "{{ site_dir }}" }
YML
start=$(date +%s.%N)
ANSIBLE_CONFIG=$work/ansible.cfg "$venv/bin/ansible-playbook" "$work/rollout.yml" \
  -e "artifact=$artifact" > "$work/out.log" 2>&1 || true
end=$(date +%s.%N)
sites=$(grep -c ansible_host "$work/hosts.ini")
tail -3 "$work/out.log" | sed 's/^/ansible: /'
python3 -c "print(f'ansible: {$sites} sites in {($end - $start):.1f} s (forks 50, pipelining, ControlPersist)')"
