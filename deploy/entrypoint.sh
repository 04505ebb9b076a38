#!/bin/sh
# Bring the PostgreSQL schema up to date, then run the bot (the config names the database by
# the JINLIN_DB_URL placeholder below, so the password stays in deploy/.env).
set -eu
config=/etc/jinlin/config.yaml
run=/var/lib/jinlin/config.yaml
sed "s#\${JINLIN_DB_URL}#${JINLIN_DB_URL}#; s#\${JINLIN_LOGIN_WEBHOOK}#${JINLIN_LOGIN_WEBHOOK:-}#" "$config" >"$run"
jinlin db upgrade --config "$run"
exec jinlin run --config "$run"
