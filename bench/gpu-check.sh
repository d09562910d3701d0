#!/usr/bin/env bash
# GPU check for an NVIDIA machine without internet, one command (under 8 minutes):
#   bench/gpu-check.sh [--peers DIR] [--quick]
# 1. Vulkan loader: uses the system's libvulkan.so.1, else unpacks the .deb files that
#    scripts/fetch-vulkan-debs.sh put in bench/.vulkan-debs/ (carried with the tree) into a temporary folder.
# 2. NVIDIA's Vulkan driver: if no ICD file names it (containers often lack one), writes one for
#    libGLX_nvidia.so.0 when that library is present.
# 3. Prints JSON lines (bench/gpu-check.ts): webgpu train step 256²/128², webgpu and CUDA-EP inference img/s
#    at batch 1 and 8, and PyTorch on CUDA (fp32) for the ratios. --peers DIR (or PEER_DIR) names the
#    PyTorch peer scripts' folder. --quick: tiny sizes, to try the logic on a software adapter
#    (VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json bench/gpu-check.sh --quick).
set -uo pipefail
cd "$(dirname "$0")/.."
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --peers) export PEER_DIR="$2"; shift 2 ;;
    --quick) args+=(--quick); shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument $1 (use --peers DIR, --quick)" >&2; exit 2 ;;
  esac
done
debs="${VULKAN_DEBS:-bench/.vulkan-debs}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$tmp}"

has_lib() { ldconfig -p 2>/dev/null | grep -q "$1 " || { [ -n "${LD_LIBRARY_PATH:-}" ] && for d in ${LD_LIBRARY_PATH//:/ }; do [ -e "$d/$1" ] && exit 0; done; exit 1; }; }

export GPU_CHECK_VULKAN_LOADER=system
# GPU_CHECK_FORCE_DEBS=1 uses the carried .deb files even where the system has a loader (to try that path).
if [ -n "${GPU_CHECK_FORCE_DEBS:-}" ] || ! (has_lib libvulkan.so.1); then
  if compgen -G "$debs/*.deb" >/dev/null; then
    for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$tmp/root"; done
    libdir="$(dirname "$(find "$tmp/root" -name 'libvulkan.so.1' | head -1)")"
    export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export GPU_CHECK_VULKAN_LOADER="debs ($debs)"
  else
    export GPU_CHECK_VULKAN_LOADER="missing: no libvulkan.so.1 and no .deb files in $debs (run scripts/fetch-vulkan-debs.sh where apt works)"
  fi
fi

if [ -z "${VK_ICD_FILENAMES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  nv="$(ldconfig -p 2>/dev/null | grep -o '/[^ ]*libGLX_nvidia\.so\.0$' | head -1)"
  [ -z "$nv" ] && nv="$(ls /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/lib64/libGLX_nvidia.so.0 2>/dev/null | head -1)"
  if [ -n "$nv" ]; then
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$nv" >"$tmp/nvidia_icd.json"
    export VK_ICD_FILENAMES="$tmp/nvidia_icd.json"
  fi
fi

exec_timeout=470
timeout "$exec_timeout" node --import tsx bench/gpu-check.ts "${args[@]}" 2> >(grep -v 'XDG_RUNTIME_DIR' >&2)
