#!/usr/bin/env bash
# Download (not install) the Debian packages of the Vulkan loader and the GL/EGL dispatch libraries that
# NVIDIA's Vulkan driver (libGLX_nvidia.so.0) links against, into bench/.vulkan-debs/ (git-ignored).
# Run it on a machine with apt access; copy the tree to an offline GPU machine and run
# bench/gpu-check.sh there: it unpacks them into a temporary folder when the system has no Vulkan loader.
# Usage: scripts/fetch-vulkan-debs.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-bench/.vulkan-debs}"
mkdir -p "$dir"
packages=(libvulkan1 libglvnd0 libegl1 libgles2 libglx0 libgl1 libopengl0 libx11-6 libx11-xcb1 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 libwayland-client0 libffi8)
apt-get update -qq || echo "warning: apt-get update failed; using the package lists already here" >&2
(cd "$dir" && apt-get download "${packages[@]}")
ls -1 "$dir"/*.deb
echo "fetched ${#packages[@]} packages into $dir (carry this folder with the tree; never commit it)"
