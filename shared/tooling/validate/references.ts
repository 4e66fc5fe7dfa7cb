/**
 * Rule: every `Ref`, `Fn::GetAtt`, `Fn::Sub` variable, `DependsOn`, `Condition` and `Fn::FindInMap`
 * names something that exists: a parameter, a resource (SAM's generated ones included, e.g.
 * `<Function>Role`), a pseudo parameter, a condition, a mapping — and every attribute exists for the
 * type of the resource as deployed (the CloudFormation resource specification).
 */
import {
  intrinsic,
  isNode,
  PSEUDO_PARAMETERS,
  place,
  subVariables,
  type TemplateContext,
  walk,
} from './model.ts';
import { specResource } from './resources.ts';

type Path = readonly (string | number)[];

/** Problems of the references; empty when every one resolves. */
export function referenceProblems(context: TemplateContext): string[] {
  const { template, resources, deployedTypes } = context;
  const conditions = new Set(Object.keys(isNode(template.Conditions) ? template.Conditions : {}));
  const mappings = new Set(Object.keys(isNode(template.Mappings) ? template.Mappings : {}));
  const parameters = new Set(Object.keys(context.parameters));
  const problems: string[] = [];

  const refProblem = (name: string, at: Path, how: string): string | undefined => {
    if (parameters.has(name) || PSEUDO_PARAMETERS.has(name) || deployedTypes.has(name)) return undefined;
    // SAM resolves `!Ref Function.Alias` / `.Version` when the function publishes an alias.
    const [logicalId, suffix] = name.split('.');
    const resource = logicalId === undefined ? undefined : resources[logicalId];
    if (
      resource !== undefined &&
      (suffix === 'Alias' || suffix === 'Version') &&
      isNode(resource.Properties) &&
      resource.Properties.AutoPublishAlias !== undefined
    )
      return undefined;
    return `${place(at)}: ${how} ${name}: no parameter, resource or pseudo parameter of that name`;
  };

  const getAttProblem = (logicalId: string, attribute: string, at: Path, how: string): string | undefined => {
    const type = deployedTypes.get(logicalId);
    if (type === undefined) return `${place(at)}: ${how} ${logicalId}.${attribute}: no resource ${logicalId}`;
    if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') return undefined;
    if (type === 'AWS::CloudFormation::Stack' && attribute.startsWith('Outputs.')) return undefined;
    const attributes = Object.keys(specResource(type)?.attributes ?? {});
    if (attributes.includes(attribute)) return undefined;
    return `${place(at)}: ${how} ${logicalId}.${attribute}: ${type} has no attribute ${attribute} (it has: ${attributes.join(', ') || 'none'})`;
  };

  walk(template, [], (node, at) => {
    const call = intrinsic(node);
    if (call !== undefined) {
      const [name, argument] = call;
      const problem = intrinsicProblem(name, argument, at);
      if (problem !== undefined) problems.push(...problem);
    }
    // Resource attributes: DependsOn and Condition name other parts of the template.
    if (at.length === 2 && at[0] === 'Resources' && isNode(node)) {
      for (const dependency of [node.DependsOn ?? []].flat()) {
        if (typeof dependency !== 'string' || !(dependency in resources))
          problems.push(
            `${place([...at, 'DependsOn'])}: DependsOn ${String(dependency)}: no resource of that name`,
          );
      }
      if (node.Condition !== undefined && !conditions.has(String(node.Condition)))
        problems.push(
          `${place([...at, 'Condition'])}: Condition ${String(node.Condition)}: no condition of that name`,
        );
    }
  });
  return problems;

  function intrinsicProblem(name: string, argument: unknown, at: Path): string[] | undefined {
    switch (name) {
      case 'Ref': {
        if (typeof argument !== 'string') return [`${place(at)}: Ref takes a name`];
        const problem = refProblem(argument, at, 'Ref');
        return problem === undefined ? undefined : [problem];
      }
      case 'Fn::GetAtt': {
        const [logicalId, attribute] =
          typeof argument === 'string' ? splitOnce(argument) : (argument as unknown[]);
        if (typeof logicalId !== 'string') return [`${place(at)}: Fn::GetAtt takes [resource, attribute]`];
        // The attribute may be computed (Fn::Sub); the resource must exist all the same.
        if (typeof attribute !== 'string')
          return deployedTypes.has(logicalId)
            ? undefined
            : [`${place(at)}: Fn::GetAtt ${logicalId}: no resource ${logicalId}`];
        const problem = getAttProblem(logicalId, attribute, at, 'Fn::GetAtt');
        return problem === undefined ? undefined : [problem];
      }
      case 'Fn::Sub': {
        const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
        if (typeof text !== 'string') return [`${place(at)}: Fn::Sub takes a string, or [string, variables]`];
        const local = new Set(Object.keys(isNode(variables) ? variables : {}));
        const found: string[] = [];
        for (const variable of subVariables(text)) {
          if (local.has(variable)) continue;
          const dot = variable.indexOf('.');
          const problem =
            dot > 0 && !PSEUDO_PARAMETERS.has(variable) && !parameters.has(variable)
              ? getAttProblem(variable.slice(0, dot), variable.slice(dot + 1), at, 'Fn::Sub variable')
              : refProblem(variable, at, 'Fn::Sub variable');
          if (problem !== undefined) found.push(problem);
        }
        return found;
      }
      case 'Fn::If':
      case 'Condition': {
        const condition = name === 'Condition' ? argument : (argument as unknown[])[0];
        return typeof condition === 'string' && conditions.has(condition)
          ? undefined
          : [`${place(at)}: ${name} ${String(condition)}: no condition of that name`];
      }
      case 'Fn::FindInMap': {
        const [mapping] = argument as unknown[];
        return typeof mapping !== 'string' || mappings.has(mapping)
          ? undefined
          : [`${place(at)}: Fn::FindInMap ${mapping}: no mapping of that name`];
      }
      default:
        return undefined;
    }
  }
}

function splitOnce(text: string): [string, string | undefined] {
  const dot = text.indexOf('.');
  return dot < 0 ? [text, undefined] : [text.slice(0, dot), text.slice(dot + 1)];
}
