# bash completion for the ipc-utils tools: subcommands, long options (read
# from each tool's --help, so they never fall behind), queue names from
# /dev/mqueue, counter names from /dev/shm, and the COMMAND after --.
# Installed as one file per tool under share/bash-completion/completions.

_ipc_subcommands() {
	case $1 in
	ipc-fifo) echo "make read write rm" ;;
	ipc-mq) echo "create send recv info ls rm" ;;
	ipc-shmcount) echo "create get incr decr set cas wait ls rm" ;;
	esac
}

# Long options of TOOL (of its VERB, if given), as its --help lists them.
_ipc_longopts() {
	"$@" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

# Names of existing objects for TOOL, as its own ls lists them.
_ipc_objects() {
	"$1" ls 2>/dev/null | cut -f1 | sed 's|^/||'
}

_ipc_utils() {
	local cur=${COMP_WORDS[COMP_CWORD]} tool=${COMP_WORDS[0]##*/}
	local subs i
	COMPREPLY=()

	# After --, complete the COMMAND and its arguments.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [ "${COMP_WORDS[i]}" = -- ]; then
			if ((i + 1 == COMP_CWORD)); then
				mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u)
			else
				mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			fi
			return 0
		fi
	done
	subs=$(_ipc_subcommands "$tool")
	if [ -n "$subs" ] && ((COMP_CWORD == 1)); then
		mapfile -t COMPREPLY < <(compgen -W "$subs --help --version" -- "$cur")
		return 0
	fi
	case $cur in
	-*)
		local verb=
		[ -n "$subs" ] && verb=${COMP_WORDS[1]}
		mapfile -t COMPREPLY < <(compgen -W "$(_ipc_longopts "$tool" $verb)" -- "$cur") ;;
	*)
		case $tool in
		ipc-mq | ipc-shmcount)
			mapfile -t COMPREPLY < <(compgen -W "$(_ipc_objects "$tool")" -- "$cur") ;;
		*) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
		esac ;;
	esac
	return 0
}

complete -F _ipc_utils ipc-sockserve ipc-sockcat ipc-fifo ipc-mq ipc-shmcount ipc-spawnpipe
