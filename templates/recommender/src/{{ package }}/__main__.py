"""``python -m <package>`` says which steps there are; each step is its own entry point."""

import sys

STEPS = {
    "describe": "library -> materials.jsonl (Robocrystallographer texts, cached)",
    "embed": "materials -> embeddings.npy with the configured encoder",
    "recall": "query -> the recall.k most similar materials",
    "train": "embeddings + labels -> a ranker (Lightning)",
    "eval": "a ranker checkpoint -> its test metrics",
    "rank": "recalled candidates ordered by predicted properties",
    "pipeline": "describe, embed, recall, train and rank in order",
}

package = __package__ or "PACKAGE"
print(f"usage: python -m {package}.STEP [hydra overrides]   (or {package}-STEP once installed)\n")
for step, what in STEPS.items():
    print(f"  {step:9} {what}")
sys.exit(0 if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help") else 2)
