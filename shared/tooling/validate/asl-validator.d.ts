// asl-validator ships JavaScript only; this is the part of its API that validate uses (its src/types.ts).
declare module 'asl-validator' {
  interface StateMachineError {
    readonly 'Error code': string;
    readonly Message: string;
    readonly schemaError?: { readonly instancePath: string; readonly schemaPath: string };
  }
  interface ValidationOptions {
    readonly checkPaths: boolean;
    readonly checkArn: boolean;
  }
  /** Validates an Amazon States Language definition (it adds QueryLanguage to states: pass a copy). */
  function aslValidator(
    definition: unknown,
    options?: ValidationOptions,
  ): { isValid: boolean; errors: StateMachineError[]; errorsText(separator?: string): string };
  export default aslValidator;
}
