#!/usr/bin/env bash
# Checks Loupe's module layering by reading every `import` line under Sources/:
#   1. imports run downward only:
#        Linalg <- Formats <- Tokenizers <- Models <- Store <- Probes <- Analyses <- LoupeCLI <- loupe, loupe-bench
#      (a module may import any module below it, none above or beside it);
#   2. Reporting is a leaf: it imports no Loupe module, and only Probes and the layers above
#      it import Reporting;
#   3. only Linalg imports the system libraries CBLAS and CLAPACKE; only Linalg and Formats
#      import the C target CKernels (the AVX2 kernels, reached through Linalg's KernelSet and
#      Kernels and Formats' RowDot / QuantizedMatrix); only Cluster
#      imports CMPI (Open MPI), and Cluster, like Reporting, is a leaf that only Analyses and
#      the layers above it import;
#   4. LoupeCLI parses and prints: every type it declares is a command or option type
#      (ParsableCommand, ParsableArguments, ExpressibleByArgument, EnumerableFlag), a JSON
#      output shape (Encodable), an error, or CLI plumbing named in CLI_PLUMBING below.
#      Anything else is an analysis type and belongs in the library.
# Usage: scripts/check-layers.sh [ROOT]   (ROOT defaults to the repository; tests pass a
# planted tree). Prints one line per violation and exits 1 when there is any.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
[ -d "$root/Sources" ] || { echo "check-layers: no Sources folder in $root" >&2; exit 2; }

# Rank of each Loupe module: a module may import modules of lower rank only.
declare -A rank=(
  [Linalg]=0 [Formats]=1 [Tokenizers]=2 [Models]=3 [Store]=4 [Probes]=5 [Analyses]=6
  [LoupeCLI]=7 [loupe]=8 [loupe-bench]=8
)
reporting_min_rank=5
cluster_min_rank=6
# LoupeCLI types that are neither commands nor output shapes, and why they are CLI plumbing.
CLI_PLUMBING=(
  Console Buffer                              # captured output for tests and notebooks
  NotebookDocument Cell OutputComparison Piece ShellWords  # the text-notebook runner
  SweepLanes                                  # lanes from the process's thread count
  SteerInputs                                 # reading the steer commands' files and lists
  RowExport                                   # writing `store export` files
)

violations=0
report() { echo "check-layers: $*"; violations=$((violations + 1)); }

while IFS= read -r file; do
  rel="${file#"$root"/Sources/}"
  module="${rel%%/*}"
  case "$module" in CBLAS|CLAPACKE|CMPI|CKernels) continue ;; esac
  while IFS=: read -r line imported; do
    imported="$(echo "$imported" | sed -E 's/^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import[[:space:]]+(struct |class |enum |func |protocol |typealias )?//; s/[.[:space:]].*$//')"
    where="Sources/$rel:$line"
    if [ "$imported" = CBLAS ] || [ "$imported" = CLAPACKE ]; then
      [ "$module" = Linalg ] || report "$where: $module imports $imported (only Linalg may; use Linalg's BLAS / LAPACK wrappers)"
      continue
    fi
    if [ "$imported" = CKernels ]; then
      [ "$module" = Formats ] || [ "$module" = Linalg ] || report "$where: $module imports CKernels (only Linalg and Formats may; use Linalg's Kernels / KernelSet or Formats' RowDot / QuantizedMatrix)"
      continue
    fi
    if [ "$imported" = CMPI ]; then
      [ "$module" = Cluster ] || report "$where: $module imports CMPI (only Cluster may; use Cluster's Communicator)"
      continue
    fi
    if [ "$imported" = Cluster ]; then
      if [ "$module" = Cluster ]; then continue; fi
      mr="${rank[$module]:-}"
      if [ "$module" = Reporting ] || { [ -n "$mr" ] && [ "$mr" -lt "$cluster_min_rank" ]; }; then
        report "$where: $module imports Cluster (only Analyses and the layers above it may)"
      fi
      continue
    fi
    if [ "$imported" = Reporting ]; then
      if [ "$module" = Reporting ]; then continue; fi
      mr="${rank[$module]:-}"
      if [ -n "$mr" ] && [ "$mr" -lt "$reporting_min_rank" ]; then
        report "$where: $module imports Reporting (only Probes and the layers above it may)"
      fi
      continue
    fi
    ir="${rank[$imported]:-}"
    [ -n "$ir" ] || continue   # not a Loupe module (Foundation, GRDB, ...)
    if [ "$module" = Reporting ] || [ "$module" = Cluster ]; then
      report "$where: $module imports $imported ($module is a leaf: it imports no Loupe module)"
      continue
    fi
    mr="${rank[$module]:-}"
    if [ -z "$mr" ]; then
      report "$where: module $module is not in check-layers.sh's layer table (add it)"
    elif [ "$ir" -ge "$mr" ]; then
      report "$where: $module imports $imported, which is not below it (Linalg <- Formats <- Tokenizers <- Models <- Store <- Probes <- Analyses <- LoupeCLI)"
    fi
  done < <(grep -nE '^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import[[:space:]]' "$file" || true)
done < <(find "$root/Sources" -name '*.swift' | sort)

# Rule 4: types declared in LoupeCLI.
if [ -d "$root/Sources/LoupeCLI" ]; then
  allowed=" ${CLI_PLUMBING[*]} "
  while IFS= read -r hit; do
    file="${hit%%:*}"; rest="${hit#*:}"; line="${rest%%:*}"; decl="${rest#*:}"
    name="$(echo "$decl" | sed -E 's/^[[:space:]]*((public|private|fileprivate|internal|final|indirect)[[:space:]]+)*(struct|enum|class|actor|protocol)[[:space:]]+([A-Za-z_][A-Za-z0-9_]*).*/\4/')"
    conformances="$(echo "$decl" | sed -E 's/\{.*$//')"
    if echo "$conformances" | grep -qE ':[^:]*\b(ParsableCommand|AsyncParsableCommand|ParsableArguments|ExpressibleByArgument|EnumerableFlag|Encodable|Codable|Error)\b'; then
      continue
    fi
    case "$allowed" in *" $name "*) continue ;; esac
    report "${file#"$root"/}:$line: LoupeCLI declares '$name', which is not a command, option, output shape or error: an analysis type belongs in the library (or name it in CLI_PLUMBING with a reason)"
  done < <(grep -rnE '^[[:space:]]*((public|private|fileprivate|internal|final|indirect)[[:space:]]+)*(struct|enum|class|actor|protocol)[[:space:]]+[A-Za-z_]' "$root/Sources/LoupeCLI" --include='*.swift' | sort)
fi

if [ "$violations" -gt 0 ]; then
  echo "check-layers: $violations violation(s)"
  exit 1
fi
echo "check-layers: ok"
