# sam build (BuildMethod: makefile) runs `make build-<LogicalId>` with ARTIFACTS_DIR set: each function is
# bundled by shared/tooling/build.ts, the same build as `npm run build`, on the Node 22 that `npm ci`
# installs (the node devDependency). npm run validate sets TEMPLATE.
# Not NODE: npm exports NODE (the node running npm, which may be 20 and cannot run .ts).
PROJECT_NODE := node_modules/.bin/node
TEMPLATE ?= template.yaml

build-%:
	$(PROJECT_NODE) shared/tooling/build.ts --function $* --artifacts "$(ARTIFACTS_DIR)" --template "$(TEMPLATE)"
