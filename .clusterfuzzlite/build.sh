#!/bin/bash -eu
# ClusterFuzzLite's build.sh: the OSS-Fuzz-ready build lives in ci/oss-fuzz-build.sh.
exec bash "$SRC/oblique/ci/oss-fuzz-build.sh"
