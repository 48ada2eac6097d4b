#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests.
#   scripts/pg_cluster.sh start DIR   initdb + start on 127.0.0.1:$PGPORT
#                                     (default 54329) and a socket in DIR;
#                                     writes DIR/env
#   scripts/pg_cluster.sh stop DIR    stop it and remove DIR
# initdb and pg_ctl refuse root: they run as the postgres user.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?directory}
port=${PGPORT:-54329}
bin=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)
if [ -z "$bin" ]; then
    bin=$(dirname "$(command -v pg_ctl || echo /usr/bin/pg_ctl)")
fi

as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

case "$action" in
    start)
        mkdir -p "$dir"
        [ "$(id -u)" = 0 ] && chown postgres "$dir"
        as_postgres "'$bin/initdb' -D '$dir/data' -A trust -U postgres \
            -E UTF8 --locale=C.UTF-8 >'$dir/initdb.log' 2>&1"
        as_postgres "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w \
            -o \"-c listen_addresses=127.0.0.1 -p $port -k '$dir' \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
            -c max_connections=200\" start" >/dev/null
        # trytond talks to it over its unix socket: a quarter faster per
        # query than TCP on 127.0.0.1
        cat > "$dir/env" <<ENV
export TRYTOND_DATABASE__URI='postgresql://postgres@/?host=$dir&port=$port'
export PGHOST=$dir PGPORT=$port PGUSER=postgres
export PATH=$bin:\$PATH
ENV
        echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
        ;;
    stop)
        if [ -d "$dir/data" ]; then
            as_postgres "'$bin/pg_ctl' -D '$dir/data' -m immediate -w stop" \
                >/dev/null 2>&1 || true
        fi
        rm -rf "$dir"
        ;;
    *)
        echo "usage: $0 start|stop DIR" >&2
        exit 2
        ;;
esac
