#!/usr/bin/env bash
# Installs the Debian packages HyperFuse needs (QGIS, its Python bindings, GDAL, rasterio,
# SciPy, matplotlib for the quality report, scikit-image for independent metric checks,
# venv, and Xvfb for the desktop test), or the packages named as arguments (`make i18n` asks for the translation tools this
# way, which users of the plugin do not need). Only missing packages are installed, so a
# second run costs nothing.
set -euo pipefail
packages=(qgis python3-qgis qgis-providers gdal-bin python3-gdal python3-rasterio python3-scipy
          python3-skimage python3-matplotlib python3-venv python3-pip xvfb xauth)
[ $# -eq 0 ] || packages=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "System packages present."
  exit 0
fi
echo "Installing system packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
