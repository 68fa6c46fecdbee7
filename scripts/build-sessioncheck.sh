#!/usr/bin/env bash
# Builds assets/sessioncheck/sessioncheck.jar (or $1) from SessionCheck.java:
# Java 8 bytecode, entries dated alike, so the same javac gives the same jar
# (assets' test rebuilds it and compares).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-assets/sessioncheck/sessioncheck.jar}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
javac --release 8 -Xlint:-options -d "$tmp" assets/sessioncheck/SessionCheck.java
jar --create --file "$out" --date=2026-01-01T00:00:00Z -C "$tmp" .
if [ "$#" -eq 0 ]; then javac -version > assets/sessioncheck/sessioncheck.jar.javac 2>&1; fi
