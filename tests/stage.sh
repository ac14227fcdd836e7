# tests/stage.sh - copy what unprivileged users run into a directory
# they can read (sourced by tests/run and tests/bench/run)
#
# pipe(8) and spawn(8) run our programs as the user postsift, who need
# not be able to enter the checkout (a clone in /root, mode 0700). Needs
# SRC_TOP (the checkout), BUILD_DIR and STAGE_PARENT; stage sets STAGE
# and points TOP and BUILD_DIR into it; unstage removes it.

# stage - copy what the integration tests run into a fresh directory that
# every user can read, $STAGE: the source tree (without .git, the build
# directories and tests/out) and BUILD_DIR's programs in $STAGE/build;
# then TOP and BUILD_DIR point there
stage() {
	local f
	STAGE=$(mktemp -d "$STAGE_PARENT/postsift-run.XXXXXX") || return 1
	chmod 755 "$STAGE" || return 1
	tar -C "$SRC_TOP" --anchored --exclude=./.git --exclude='./build*' --exclude=./tests/out \
		-cf - . | tar -C "$STAGE" --no-same-owner -xf - || return 1
	mkdir -p "$STAGE/build/bin" "$STAGE/build/tests" || return 1
	cp "$BUILD_DIR"/bin/* "$STAGE/build/bin/" || return 1
	# test tools (not the unit tests, which run from the tree, as root)
	for f in "$BUILD_DIR"/tests/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		case ${f##*/} in test_*) continue ;; esac
		cp "$f" "$STAGE/build/tests/" || return 1
	done
	chmod -R u+rwX,go+rX,go-w "$STAGE" || return 1
	TOP=$STAGE
	BUILD_DIR=$STAGE/build
	export TOP BUILD_DIR
}

# unstage - remove the staged tree (the EXIT trap)
unstage() {
	[ -n "$STAGE" ] && [ -d "$STAGE" ] && rm -rf "$STAGE"
	STAGE=
}

