# sam build (BuildMethod: makefile) runs `make build-<LogicalId>` with ARTIFACTS_DIR set: each function is
# bundled by shared/tooling/build.ts, the same build as `npm run build` (npm puts the Node 22 of
# node_modules/.bin first on PATH; `npm ci` must have run). npm run validate sets TEMPLATE.
TEMPLATE ?= template.yaml

build-%:
	npm run --silent build -- --function $* --artifacts "$(ARTIFACTS_DIR)" --template "$(TEMPLATE)"
