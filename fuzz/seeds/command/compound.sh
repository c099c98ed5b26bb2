sudo -u root sh -c 'for f in /opt/*; do [ -d "$f" ] && echo ${f##*/}; done' | xargs -n1 echo
