# sam build (BuildMethod: makefile) runs `make build-<LogicalId>` with ARTIFACTS_DIR set: each function is
# bundled by shared/tooling/build.ts, the same build as `npm run build`, on the Node 22 that `npm ci`
# installs (the node devDependency). npm run validate sets TEMPLATE.
NODE ?= node_modules/.bin/node
TEMPLATE ?= template.yaml

build-%:
	$(NODE) shared/tooling/build.ts --function $* --artifacts "$(ARTIFACTS_DIR)" --template "$(TEMPLATE)"
