# bash completion for berthctl                              -*- shell-script -*-
# SPDX-License-Identifier: LGPL-2.1-or-later

__berthctl_containers() {
        local mode=$1 host_opt=()
        [ -n "$__berthctl_host" ] && host_opt=(-H "$__berthctl_host")
        case $mode in
                running)
                        berthctl "${host_opt[@]}" list --no-legend --no-pager 2>/dev/null | awk '{ print $1 }' ;;
                *)
                        berthctl "${host_opt[@]}" list --all --no-legend --no-pager 2>/dev/null | awk '{ print $1 }' ;;
        esac
}

_berthctl() {
        local cur prev words cword
        _init_completion -n = || return

        local verbs="list status show start stop restart kill enable disable run exec shell logs set-property inspect cat audit help"
        local global_opts="-h --help --version -H --host --json --json= --no-pager --no-legend -q --quiet"
        local i verb= __berthctl_host=

        for ((i = 1; i < cword; i++)); do
                case ${words[i]} in
                        -H|--host) __berthctl_host=${words[i + 1]}; ((i++)); continue ;;
                        --host=*) __berthctl_host=${words[i]#--host=}; continue ;;
                        -*) continue ;;
                esac
                if [ -z "$verb" ]; then
                        verb=${words[i]}
                fi
        done

        case $prev in
                -H|--host)
                        _known_hosts_real -- "$cur"
                        return ;;
                -s|--signal)
                        COMPREPLY=($(compgen -W "$(kill -l | tr -s '[:space:]' '\n' | grep '^SIG')" -- "$cur"))
                        return ;;
                -o|--output)
                        COMPREPLY=($(compgen -W "short cat json json-pretty" -- "$cur"))
                        return ;;
                -D|--directory|--layer|--upper|--config-dir)
                        _filedir -d
                        return ;;
                --config)
                        _filedir conf
                        return ;;
                --policy)
                        _filedir
                        return ;;
                -u|--user|-w|--workdir|-E|--setenv|-n|--lines|-S|--since|-p|--property)
                        return ;;
        esac
        case $cur in
                --config=*)
                        cur=${cur#--config=}
                        _filedir conf
                        return ;;
                --policy=*)
                        cur=${cur#--policy=}
                        _filedir
                        return ;;
                --json=*)
                        COMPREPLY=($(compgen -W "pretty short off" -- "${cur#--json=}"))
                        return ;;
                --whom=*)
                        COMPREPLY=($(compgen -W "leader all" -- "${cur#--whom=}"))
                        return ;;
                --network=*)
                        COMPREPLY=($(compgen -W "bridge none host" -- "${cur#--network=}"))
                        return ;;
        esac

        if [ -z "$verb" ]; then
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
                fi
                [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
                return
        fi

        local opts= names=
        case $verb in
                list) opts="-a --all --no-legend --json=" ;;
                status) opts="-n --lines -l --full --json="; names=all ;;
                show) opts="-p --property --value --json="; names=all ;;
                start|enable) opts="--now --runtime"; names=all ;;
                stop|restart|disable) opts="--now --runtime"; names=running ;;
                kill) opts="--whom= -s --signal"; names=running ;;
                logs) opts="-f --follow -n --lines -S --since -o --output"; names=all ;;
                set-property) opts="--runtime"; names=all ;;
                inspect) opts="--json="; names=running ;;
                cat) opts="--config-dir --json="; names=all ;;
                audit) opts="-a --all --config --config= --policy --policy= --config-dir --json --json= -q --quiet --no-legend"; names=running ;;
                exec|shell) opts="-t --tty -T --no-tty -u --user -w --workdir -E --setenv"; names=running ;;
                run) opts="-D --directory --layer --upper --read-only --bind= --bind-ro= --tmpfs= -E --setenv -u --user -w --workdir --hostname= --boot --description= --memory-max= --memory-high= --cpu-quota= --cpu-weight= --io-weight= --tasks-max= --allowed-cpus= --network= --port= --capability= --drop-capability= --private-users= -p --property --wait -f --follow -q --quiet" ;;
                help) COMPREPLY=($(compgen -W "$verbs" -- "$cur")); return ;;
        esac

        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
                [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
                return
        fi

        # exec and shell take one container, then the command.
        if [ "$verb" = exec ] || [ "$verb" = shell ]; then
                local n=0 seen_verb=
                for ((i = 1; i < cword; i++)); do
                        [[ ${words[i]} == -* ]] && continue
                        [ "${words[i - 1]}" = -H ] && continue
                        if [ -z "$seen_verb" ]; then seen_verb=1; continue; fi
                        n=$((n + 1))
                done
                if [ $n -ge 1 ]; then
                        [ "$verb" = exec ] && COMPREPLY=($(compgen -c -- "$cur"))
                        return
                fi
        fi
        if [ "$verb" = set-property ]; then
                local keys="MemoryMax= MemoryHigh= MemorySwapMax= CPUQuota= CPUWeight= IOWeight= TasksMax= AllowedCPUs="
                local n=0
                for ((i = 1; i < cword; i++)); do [[ ${words[i]} != -* ]] && n=$((n + 1)); done
                if [ $n -ge 2 ]; then
                        COMPREPLY=($(compgen -W "$keys" -- "$cur"))
                        compopt -o nospace
                        return
                fi
        fi
        [ -n "$names" ] && COMPREPLY=($(compgen -W "$(__berthctl_containers "$names")" -- "$cur"))
        return 0
}

complete -F _berthctl berthctl
