#!/bin/sh
# Makes what the compose stack needs and the repository must never hold:
#
#   secrets/    checkpoint keys of the three logs, the three witnesses' keys,
#               database and object-store passwords, the logs' DSN files, the
#               S3 credentials file; roots/ holds the registries' root authority
#               keys, which no container mounts (move them offline)
#   generated/  tabularium.yaml and tabwitness.yaml with the public keys filled
#               in, and each log's witness policy (2 of 3)
#
# It refuses to run twice: a second set of keys would be a second set of logs.
# The programs come from $TABULARIUM, $TABWITNESS and $TAB, or from `go run` in
# this repository. Run it from any folder; it writes next to itself.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$here"

run() { # run PROGRAM ARGS...: a built binary if named in the environment, else go run
	prog=$1
	shift
	case $prog in
	tabularium) bin=${TABULARIUM:-} ;;
	tabwitness) bin=${TABWITNESS:-} ;;
	tab) bin=${TAB:-} ;;
	esac
	if [ -n "$bin" ]; then
		"$bin" "$@"
	else
		(cd "$repo" && go run "./cmd/$prog" "$@")
	fi
}

if [ -e secrets ] || [ -e generated ]; then
	echo "init.sh: secrets/ or generated/ already exists; remove both (and the stack's volumes) to start over" >&2
	exit 1
fi
umask 077
mkdir -p secrets/roots generated

random() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }

logs="land diplomas vaccinations"
witnesses="1 2 3"
origin_prefix=registry.example.gov

# Log checkpoint keys: the name of each key is its log's origin.
for log in $logs; do
	vkey=$(run tabularium keygen --origin "$origin_prefix/$log" --out "secrets/$log.key" | sed -n 's/^verifier key: //p')
	[ -n "$vkey" ] || { echo "init.sh: no verifier key for $log" >&2; exit 1; }
	echo "$vkey" >"generated/$log.vkey"
done
# Root authority keys of each registry: only their public halves reach the server.
for log in $logs; do
	run tab keygen --out "secrets/roots/$log-root.key" >"generated/$log.root"
done
# Witness keys.
for w in $witnesses; do
	run tabwitness keygen --name "witness-$w.example.org" --out "secrets/witness-$w.key" 2>/dev/null | tail -n 1 >"generated/witness-$w.vkey"
done

# Passwords and the files that carry them.
random >secrets/mariadb_root_password
random >secrets/mariadb_password
random >secrets/minio_root_password
echo admin >secrets/minio_root_user
echo "tabularium$(random | cut -c1-8)" >secrets/s3_access_key
random >secrets/s3_secret_key
db_password=$(cat secrets/mariadb_password)
for log in $logs; do
	echo "tabularium:$db_password@tcp(mariadb:3306)/tabularium_$log" >"secrets/$log.dsn"
done
cat >secrets/s3_credentials <<EOF
[default]
aws_access_key_id = $(cat secrets/s3_access_key)
aws_secret_access_key = $(cat secrets/s3_secret_key)
EOF

# Configuration with the public keys filled in.
fill() { # fill TEMPLATE: replaces every @NAME@ with the matching generated value
	sed -e "s|@LAND_ROOT@|$(cat generated/land.root)|" \
		-e "s|@DIPLOMAS_ROOT@|$(cat generated/diplomas.root)|" \
		-e "s|@VACCINATIONS_ROOT@|$(cat generated/vaccinations.root)|" \
		-e "s|@LAND_VKEY@|$(cat generated/land.vkey)|" \
		-e "s|@DIPLOMAS_VKEY@|$(cat generated/diplomas.vkey)|" \
		-e "s|@VACCINATIONS_VKEY@|$(cat generated/vaccinations.vkey)|" \
		-e "s|@W1_VKEY@|$(cat generated/witness-1.vkey)|" \
		-e "s|@W2_VKEY@|$(cat generated/witness-2.vkey)|" \
		-e "s|@W3_VKEY@|$(cat generated/witness-3.vkey)|" \
		"$1"
}
fill tabularium.yaml >generated/tabularium.yaml
fill tabwitness.yaml >generated/tabwitness.yaml
for log in $logs; do
	fill witness.policy | sed "s|@LOG_VKEY@|$(cat "generated/$log.vkey")|" >"generated/$log.policy"
done
chmod 0644 generated/*
if grep -rq '@[A-Z0-9_]*@' generated; then
	echo "init.sh: a placeholder was left unfilled in generated/" >&2
	exit 1
fi

# The containers run as 65532 and their secrets are bind mounts: the files must
# be that user's, mode 0600, or the servers refuse to start.
chmod 0600 secrets/*.key secrets/*.dsn secrets/s3_* secrets/mariadb_* secrets/minio_*
if [ "$(id -u)" = 0 ]; then
	chown 65532:65532 secrets/*.key secrets/*.dsn secrets/s3_* secrets/mariadb_* secrets/minio_*
else
	echo "init.sh: now run: sudo chown 65532:65532 $here/secrets/*" >&2
fi
echo "init.sh: wrote secrets/ and generated/; the trust policies for tab verify are generated/<log>.policy"
echo "init.sh: move secrets/roots/ off this machine before going live"
