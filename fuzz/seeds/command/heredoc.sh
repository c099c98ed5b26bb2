cat <<EOF >/tmp/x
$(id)
EOF
case $1 in a) :;; esac; if true; then (exit 1); fi
