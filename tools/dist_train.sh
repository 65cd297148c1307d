#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NPROC [train.py options]
# One process per device; without CUDA, NPROC CPU processes with the gloo
# backend (tools/train.py sets that up).
CONFIG=$1
NPROC=$2
if [[ $# -lt 2 || ! $NPROC =~ ^[1-9][0-9]*$ ]]; then
    # torchrun would say only "Unsupported nproc_per_node value"
    echo "usage: $0 CONFIG NPROC [train.py options]" >&2
    echo "error: NPROC, the number of processes (e.g. 2), must follow the" \
        "config; got '${NPROC}'" >&2
    exit 2
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
"${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --master_port="$PORT" \
    --nproc_per_node="$NPROC" \
    "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
