/**
 * Second esbuild entry point of every function in template.yaml. With two entry points in different
 * folders, esbuild's outbase is the project root, so `sam build` writes functions/<name>/handler.mjs,
 * where the function's Handler points (SAM passes no --outbase; aws/aws-sam-cli#4082).
 */
export {};
