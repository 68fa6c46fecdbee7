#!/usr/bin/env bash
# Installs, from Debian's archive, what building clusterctl, its tests and
# the local lab need. Idempotent: only missing packages are installed.
set -euo pipefail

packages=(
  # the lab's hosts: rootfs, containers, network, apt proxy for the hosts
  debootstrap systemd-container iproute2 apt-cacher-ng openssh-client
  # lab artifacts: JDK to tarball, Tomcat 9 assembled from Debian's jars,
  # the MSM test double compiled against Tomcat 9 and spymemcached
  openjdk-17-jdk-headless libtomcat9-java tomcat10-common tomcat10 libeclipse-jdt-core-java
  libspymemcached-java
  # unit/integration tests run memcached on loopback and check nginx.conf syntax
  memcached nginx-light
  # tools
  make git curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root (sudo make deps)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps package scripts from starting services on this machine
# (memcached, apt-cacher-ng): the lab and the tests start their own.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}"
