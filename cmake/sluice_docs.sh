#!/usr/bin/env bash
# Generates the man page and the bash and zsh completions from the built executable's own
# --help, so they always list the verbs and flags `sluice` really has (the verb table lives in
# cli/app.cpp and runtime/cli/actor_verbs.hpp; nothing here repeats it).
#   cmake/sluice_docs.sh <sluice> <output dir> <version>
# Writes <output dir>/sluice.1, <output dir>/sluice.bash and <output dir>/_sluice.
#
# It reads CLI11's help layout: a first line saying what the command does, "Usage:", then
# sections ("Options:", "Positionals:", "Subcommands:") of entries "  NAME[ TYPE]  description"
# (a long NAME puts its description on the next, indented line), then the exit-code footer.
set -euo pipefail
sluice=${1:?usage: sluice_docs.sh SLUICE OUTDIR VERSION}
out=${2:?}
version=${3:?}
mkdir -p "$out"

help() { env -u SLUICE_BUS -u SLUICE_DIR COLUMNS=1000 "$sluice" "$@" --help; }

# Entries of one section as "name<TAB>description" (continuation lines joined).
section() {
  awk -v want="$1:" '
    /^[^ ].*:$/ { on = ($0 == want); next }
    /^$/ { if (on) { flush(); on = 0 } ; next }
    !on { next }
    /^      / && name != "" { sub(/^ +/, ""); desc = desc (desc == "" ? "" : " ") $0; next }
    { flush(); line = $0; sub(/^  /, "", line)
      split(line, parts, /  +/); name = parts[1]; desc = ""
      rest = substr(line, length(name) + 1); sub(/^ +/, "", rest); desc = rest }
    function flush() { if (name != "") print name "\t" desc; name = "" }
    END { flush() }'
}

# The flags an Options entry names ("-h,--help" -> -h --help; "--bus TEXT" -> --bus).
flags_of() { cut -f1 | awk '{ n = split($1, f, ","); for (i = 1; i <= n; i++) print f[i] }'; }
# The same with ":value:" after a flag that takes one (its entry names a type: "--bus TEXT").
flag_specs() {
  cut -f1 | awk '{ n = split($1, f, ","); for (i = 1; i <= n; i++) print f[i] (NF > 1 ? ":value:" : "") }'
}

top=$(help)
summary=$(sed -n 1p <<<"$top")
footer=$(awk '/^Exit codes:/ { f = 1 } f' <<<"$top")
verb_entries=$(section Subcommands <<<"$top")
global_entries=$(section Options <<<"$top")
verbs=$(cut -f1 <<<"$verb_entries" | tr -d ',' | tr ' ' '\n' | sed '/^$/d')
global_flags=$(flags_of <<<"$global_entries")

# --- man page -------------------------------------------------------------------------------
roff() { sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/' -e 's/-/\\-/g'; }
{
  echo ".TH SLUICE 1 \"\" \"sluice $version\" \"User Commands\""
  echo ".SH NAME"
  echo "sluice \\- $(sed 's/^sluice: //' <<<"$summary" | roff)"
  echo ".SH SYNOPSIS"
  echo ".B sluice"
  echo "[\\fIOPTIONS\\fR] \\fIVERB\\fR [\\fIARGUMENTS\\fR]"
  echo ".SH OPTIONS"
  while IFS=$'\t' read -r name desc; do
    echo ".TP"
    echo ".B $(roff <<<"$name")"
    roff <<<"$desc"
  done <<<"$global_entries"
  echo ".SH VERBS"
  while IFS=$'\t' read -r names desc; do
    verb=${names%%,*}
    verb_help=$(help "$verb")
    usage=$(sed -n 's/^Usage: //p' <<<"$verb_help")
    echo ".SS \"$(roff <<<"$usage")\""
    roff <<<"$desc"
    [[ $names == *,* ]] && echo ".br" && echo "Also: $(roff <<<"${names#*, }")."
    for kind in Positionals Options; do
      while IFS=$'\t' read -r name text; do
        [[ -z $name || $name == "-h,--help" ]] && continue
        echo ".TP"
        echo ".B $(roff <<<"$name")"
        roff <<<"$text"
      done < <(section "$kind" <<<"$verb_help")
    done
  done <<<"$verb_entries"
  echo ".SH \"EXIT STATUS\""
  roff <<<"${footer#Exit codes: }"
  echo ".SH \"SEE ALSO\""
  echo "The README of sluice: concepts, configuration variables, metrics, the bridge."
} >"$out/sluice.1"

# --- per-verb flags, shared by both completions ---------------------------------------------
declare -A verb_flags verb_specs verb_args
while IFS=$'\t' read -r names _; do
  verb=${names%%,*}
  verb_help=$(help "$verb")
  options=$(section Options <<<"$verb_help" | awk '!/^-h,--help/')
  verb_flags[$verb]=$(flags_of <<<"$options" | paste -sd' ')
  verb_specs[$verb]=$(flag_specs <<<"$options" | paste -sd' ')
  verb_args[$verb]=$(section Positionals <<<"$verb_help" | cut -f1 | awk '{ print $1 }' | paste -sd' ')
  for alias in $(tr -d ',' <<<"${names#"$verb"}"); do
    verb_flags[$alias]=${verb_flags[$verb]}
    verb_specs[$alias]=${verb_specs[$verb]}
    verb_args[$alias]=${verb_args[$verb]}
  done
done <<<"$verb_entries"

# --- bash -----------------------------------------------------------------------------------
{
  cat <<EOF
# bash completion for sluice $version (generated from sluice --help by cmake/sluice_docs.sh)
_sluice_agents() {
  local dir=\${SLUICE_DIR:-/dev/shm/sluice/\${SLUICE_BUS:-default}} i
  for ((i = 1; i < \${#COMP_WORDS[@]} - 1; i++)); do
    case \${COMP_WORDS[i]} in
      --dir) dir=\${COMP_WORDS[i + 1]} ;;
      --bus) dir=/dev/shm/sluice/\${COMP_WORDS[i + 1]} ;;
    esac
  done
  local f
  for f in "\$dir"/*.inbox; do [[ -e \$f ]] && f=\${f##*/} && echo "\${f%.inbox}"; done
}
_sluice() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD - 1]} verb="" i
  local global="$(paste -sd' ' <<<"$global_flags")"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      --bus|--dir) ((i++)) ;;
      -*) ;;
      *) verb=\${COMP_WORDS[i]}; break ;;
    esac
  done
  case \$prev in
    --dir) COMPREPLY=(\$(compgen -d -- "\$cur")); return ;;
    --bus) COMPREPLY=(\$(compgen -W "\$(ls /dev/shm/sluice 2>/dev/null)" -- "\$cur")); return ;;
  esac
  if [[ -z \$verb ]]; then
    COMPREPLY=(\$(compgen -W "$(paste -sd' ' <<<"$verbs") \$global" -- "\$cur"))
    return
  fi
  local flags="" args=""
  case \$verb in
EOF
  for verb in $verbs; do
    printf '    %s) flags="%s"; args="%s" ;;\n' "$verb" "${verb_flags[$verb]}" "${verb_args[$verb]}"
  done
  cat <<EOF
  esac
  if [[ \$cur == -* ]]; then
    COMPREPLY=(\$(compgen -W "\$flags \$global" -- "\$cur"))
  elif [[ \$args == *manifest* ]]; then
    COMPREPLY=(\$(compgen -f -- "\$cur"))
  elif [[ \$args == *agent* || \$args == *from* ]]; then
    COMPREPLY=(\$(compgen -W "\$(_sluice_agents)" -- "\$cur"))
  fi
}
complete -F _sluice sluice
EOF
} >"$out/sluice.bash"

# --- zsh ------------------------------------------------------------------------------------
zsh_quote() { sed -e "s/'/'\\\\''/g" -e 's/:/\\:/g' -e 's/\[/\\[/g' -e 's/\]/\\]/g'; }
{
  echo "#compdef sluice"
  echo "# zsh completion for sluice $version (generated from sluice --help by cmake/sluice_docs.sh)"
  echo "_sluice() {"
  echo "  local -a verbs global"
  echo "  verbs=("
  while IFS=$'\t' read -r names desc; do
    for verb in $(tr -d ',' <<<"$names"); do
      echo "    '$verb:$(cut -c1-70 <<<"$desc" | zsh_quote)'"
    done
  done <<<"$verb_entries"
  echo "  )"
  echo "  global=("
  while IFS=$'\t' read -r name desc; do
    for spec in $(flag_specs <<<"$name"$'\t'); do
      flag=${spec%%:*}
      [[ $flag == -h || $flag == --help || $flag == --version ]] && continue
      value=${spec#"$flag"}
      [[ $flag == --dir ]] && value=":directory:_files -/"
      echo "    '$flag[$(cut -c1-60 <<<"$desc" | zsh_quote)]$value'"
    done
  done <<<"$global_entries"
  echo "  )"
  echo "  local curcontext=\$curcontext state line"
  echo "  _arguments -C \$global '(- *)'{-h,--help}'[print help]' '(- *)--version[print the version]' \\"
  echo "    '1: :->verb' '*:: :->args'"
  echo "  case \$state in"
  echo "    verb) _describe -t verbs 'sluice verb' verbs ;;"
  echo "    args)"
  echo "      case \$words[1] in"
  for verb in $verbs; do
    specs=""
    for spec in ${verb_specs[$verb]}; do specs+=" '$spec'"; done
    if [[ ${verb_args[$verb]} == *manifest* ]]; then specs+=" '*:manifest:_files'"; else specs+=" '*:argument:'"; fi
    echo "        $verb) _arguments$specs ;;"
  done
  echo "      esac ;;"
  echo "  esac"
  echo "}"
  echo "_sluice \"\$@\""
} >"$out/_sluice"
