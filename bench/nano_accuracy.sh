#!/bin/sh
# Dev accuracy of the four nano models that `make nano-models` trains, F32 and
# Q4_0, with the files' sizes, as a markdown table; then CLINC150's in-scope
# accuracy and out-of-scope recall with a confidence threshold (the one
# `train-classifier --oos-dev` picked on oos_dev.tsv and printed).
#
#   sh bench/nano_accuracy.sh [CLINC_OOS_THRESHOLD]
set -eu
cd "$(dirname "$0")/.."
data=../shared/data/intent
slm=build/slm
acc() { $slm classify -m "$1" --eval "$2" | awk '/^accuracy/ { printf "%.2f", 100 * $2 } /^macro-F1/ { printf " (F1 %.2f)", 100 * $2 }'; }
size() { wc -c < "$1" | awk '{ printf "%.2f", $1 / 1e6 }'; }

printf '| set | classes | dev texts | F32 dev accuracy | Q4_0 dev accuracy | Q4_0 / F32 | F32 MB | Q4_0 MB |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for s in snips atis banking77 clinc150; do
    f=build/models/nano-$s.gguf q=build/models/nano-$s-q4_0.gguf
    a=$(acc "$f" $data/$s/dev.tsv) b=$(acc "$q" $data/$s/dev.tsv)
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$(cut -f2 $data/$s/train.tsv | sort -u | wc -l)" \
        "$(wc -l < $data/$s/dev.tsv)" "$a" "$b" "$(echo "${a%% *} ${b%% *}" | awk '{ printf "%.2f %%", 100 * $2 / $1 }')" \
        "$(size "$f")" "$(size "$q")"
done

th=${1:-}
if [ -n "$th" ]; then
    cat $data/clinc150/dev.tsv $data/clinc150/oos_dev.tsv > build/models/clinc150-dev-oos.tsv
    for m in nano-clinc150 nano-clinc150-q4_0; do
        echo "$m, dev + oos_dev, --oos-threshold $th:"
        $slm classify -m build/models/$m.gguf --oos-threshold "$th" --eval build/models/clinc150-dev-oos.tsv |
            grep -E '^(in-scope acc|oos recall)'
    done
fi
