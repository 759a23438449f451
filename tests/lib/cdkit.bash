# Helpers for the tests of pipelines/cdkit:  load lib/cdkit  (it loads
# lib/registry and lib/upstream, for the registry and the mirror a sync
# runs against).

load lib/registry
load lib/upstream

# cdkit ARGS...: pipelines/cdkit of the source tree, with the mirror map of
# upstream_start mkmirror (none when there is no mirror), 10 minutes at most.
cdkit() {
	CD_MIRRORS=${MIRRORS:-} timeout 600 "$CDKIT_ROOT/pipelines/cdkit" "$@"
}
