#!/bin/sh
# The namespace the service runs in. `temporalio/server` (unlike the retired auto-setup
# image) creates none, so this job waits until the frontend answers SERVING, creates it
# once (a later run finds it and changes nothing), and waits until it can be used.
set -eu

: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}"
retention="${TEMPORAL_NAMESPACE_RETENTION:-720h}"

tries=0
until temporal operator cluster health 2>/dev/null | grep -q SERVING; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "Temporal at $TEMPORAL_ADDRESS is not SERVING after 2 minutes" >&2
        exit 1
    fi
    sleep 2
done

if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
    echo "namespace $TEMPORAL_NAMESPACE exists"
else
    temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$retention"
    echo "namespace $TEMPORAL_NAMESPACE created (retention $retention)"
fi

# A new namespace reaches every service's cache within seconds; until then `complaints
# setup` would find it missing (Temporal's auto-setup script waits the same way).
tries=0
until temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 30 ]; then
        echo "namespace $TEMPORAL_NAMESPACE is not usable after 60 s" >&2
        exit 1
    fi
    sleep 2
done
echo "namespace $TEMPORAL_NAMESPACE is ready"
