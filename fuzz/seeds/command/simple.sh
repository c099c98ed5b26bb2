rm -rf /tmp/x; echo $(date) | tee /tmp/y
