# Debian packages for the project's scripts (sourced by scripts/setup.sh and scripts/report-screenshot.sh): installed
# as root, or with sudo when not root; the package lists are read at most once per script. APT_LABEL names the script
# in messages.

# apt_installed PKG: whether dpkg has PKG installed.
apt_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

apt_sudo=""
# apt_as_root WHAT: prepares to run apt-get as root (sudo when not root); exits naming WHAT when neither is possible.
apt_as_root() {
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "${APT_LABEL:-apt}: need root or sudo to install $*" >&2; exit 1; }
    apt_sudo="sudo"
  fi
}

apt_updated=0
# apt_update: reads the package lists, once.
apt_update() {
  if [ "$apt_updated" -eq 0 ]; then
    apt_as_root "packages"
    DEBIAN_FRONTEND=noninteractive $apt_sudo apt-get update -qq
    apt_updated=1
  fi
}

# apt_install [apt-get options] PKG...: installs quietly, after reading the package lists.
apt_install() {
  apt_as_root "$*"
  apt_update
  DEBIAN_FRONTEND=noninteractive $apt_sudo apt-get install -y -qq "$@" > /dev/null
}
