# Tiny assertion helpers for the integration scripts: each check prints ok/FAIL and the
# script exits non-zero if any check failed.
CHECKS_FAILED=0
check_eq() {  # check_eq DESCRIPTION EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then
        echo "  ok   $1"
    else
        echo "  FAIL $1: expected [$2], got [$3]"
        CHECKS_FAILED=$((CHECKS_FAILED + 1))
    fi
}
check_contains() {  # check_contains DESCRIPTION NEEDLE HAYSTACK
    case "$3" in
        *"$2"*) echo "  ok   $1" ;;
        *) echo "  FAIL $1: [$2] not in [$3]"; CHECKS_FAILED=$((CHECKS_FAILED + 1)) ;;
    esac
}
finish_checks() {
    [ "$CHECKS_FAILED" -eq 0 ]
}
