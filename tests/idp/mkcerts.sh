#!/bin/sh
# mkcerts.sh DIR: make the throw-away PKI the tests use, all on loopback names.
#   ca.pem / ca.key          the test CA the module is told to trust (ca_file)
#   server.pem / server.key  127.0.0.1, ::1 and localhost, signed by the test CA
#   wronghost.pem/.key       signed by the test CA, but for "wrong.invalid" only
#   expired.pem/.key         signed by the test CA, for 127.0.0.1, expired
#   rogue-ca.pem, rogue.pem/.key  a second CA nobody trusts, and a 127.0.0.1 cert it signed
# Nothing here is secret: the keys exist only for the length of a test run.
set -eu
dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
cd "$dir"
[ -f server.pem ] && exit 0

ossl() { openssl "$@" 2>/dev/null; }

mkca() { # name subject
	ossl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" \
		-days 30 -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
}

mkleaf() { # name ca san days
	ossl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" > "$1.ext"
	ossl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
		-out "$1.pem" -days "$4" -extfile "$1.ext"
	rm -f "$1.csr" "$1.ext"
}

# OpenSSL 3.0 has no -not_before/-not_after on x509; an expired leaf is made
# with the "ca" command, which accepts explicit start and end dates.
mkexpired() { # name ca san
	mkdir -p ca-db
	: > ca-db/index.txt
	echo 1000 > ca-db/serial
	cat > ca-db/ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
copy_extensions = none
[ any ]
commonName = supplied
CNF
	ossl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" > "$1.ext"
	ossl ca -batch -config ca-db/ca.cnf -cert "$2.pem" -keyfile "$2.key" \
		-in "$1.csr" -out "$1.pem" -notext \
		-startdate 20200101000000Z -enddate 20200201000000Z -extfile "$1.ext"
	rm -rf ca-db "$1.csr" "$1.ext"
}

mkca ca "pam_ropc test CA"
mkca rogue-ca "untrusted test CA"
mkleaf server ca "IP:127.0.0.1,IP:::1,DNS:localhost" 30
mkleaf wronghost ca "DNS:wrong.invalid" 30
mkexpired expired ca "IP:127.0.0.1,IP:::1,DNS:localhost"
mkleaf rogue rogue-ca "IP:127.0.0.1,IP:::1,DNS:localhost" 30
rm -f ./*.srl
chmod 600 ./*.key
