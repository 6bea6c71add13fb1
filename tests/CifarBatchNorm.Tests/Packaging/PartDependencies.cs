using System.Reflection;
using System.Reflection.Emit;

namespace CifarBatchNorm.Tests.Packaging;

/// <summary>
/// The part-to-part dependencies of the compiled library, read from the assembly: for every type of a part (its
/// namespace under <c>CifarBatchNorm.</c>, nested and compiler-generated types included), the types it names in its
/// base type, interfaces, fields, properties, method and constructor signatures, and every type, method or field its
/// method bodies' IL refers to (calls, allocations, field accesses, casts, <c>typeof</c>).
/// </summary>
internal static class PartDependencies
{
    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The part a type belongs to (<c>Training</c> for <c>CifarBatchNorm.Training.Sequential</c>), or <c>null</c> outside the library's parts.</summary>
    public static string? PartOf(Type type)
    {
        string? ns = type.Namespace;
        const string prefix = "CifarBatchNorm.";
        if (ns is null || !ns.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        return ns[prefix.Length..].Split('.')[0];
    }

    /// <summary>Every (from part, to part) dependency with one example: the referring type and the type referred to.</summary>
    public static Dictionary<(string From, string To), string> Of(Assembly assembly)
    {
        var found = new Dictionary<(string, string), string>();
        foreach (var type in assembly.GetTypes())
        {
            if (PartOf(type) is not string from)
            {
                continue;
            }

            foreach (var used in Referenced(type))
            {
                if (PartOf(used) is string to && to != from)
                {
                    found.TryAdd((from, to), $"{type.FullName} uses {used.FullName}");
                }
            }
        }

        return found;
    }

    private static IEnumerable<Type> Referenced(Type type)
    {
        var named = new List<Type>();
        if (type.BaseType is not null)
        {
            named.Add(type.BaseType);
        }

        named.AddRange(type.GetInterfaces());
        named.AddRange(type.GetFields(Everything).Select(f => f.FieldType));
        named.AddRange(type.GetProperties(Everything).Select(p => p.PropertyType));
        named.AddRange(type.GetEvents(Everything).Select(e => e.EventHandlerType!));
        named.AddRange(type.GetCustomAttributesData().Select(a => a.AttributeType));
        foreach (var method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (method is MethodInfo info)
            {
                named.Add(info.ReturnType);
            }

            named.AddRange(method.GetParameters().Select(p => p.ParameterType));
            named.AddRange(method.GetCustomAttributesData().Select(a => a.AttributeType));
            named.AddRange(InBody(method));
        }

        return named.SelectMany(Expand);
    }

    /// <summary>The type itself, its element type and its generic arguments, all the way down.</summary>
    private static IEnumerable<Type> Expand(Type type)
    {
        yield return type;
        if (type.HasElementType)
        {
            foreach (var inner in Expand(type.GetElementType()!))
            {
                yield return inner;
            }
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (var inner in type.GetGenericArguments().SelectMany(Expand))
            {
                yield return inner;
            }
        }
    }

    /// <summary>The types a method body's IL refers to through metadata tokens, and the types of its locals.</summary>
    private static IEnumerable<Type> InBody(MethodBase method)
    {
        var body = method.GetMethodBody();
        if (body?.GetILAsByteArray() is not byte[] il)
        {
            yield break;
        }

        foreach (var local in body.LocalVariables)
        {
            yield return local.LocalType;
        }

        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int at = 0;
        while (at < il.Length)
        {
            short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            var code = OpCodesByValue[value];
            at += code.Size;
            int operand = OperandSize(code.OperandType, il, at);
            if (code.OperandType is OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok)
            {
                var member = method.Module.ResolveMember(BitConverter.ToInt32(il, at), typeArguments, methodArguments)!;
                yield return member as Type ?? member.DeclaringType!;
                if (member is MethodInfo called)
                {
                    yield return called.ReturnType;
                    foreach (var argument in called.IsGenericMethod ? called.GetGenericArguments() : [])
                    {
                        yield return argument;
                    }
                }
                else if (member is FieldInfo field)
                {
                    yield return field.FieldType;
                }
            }

            at += operand;
        }
    }

    private static int OperandSize(OperandType type, byte[] il, int at) => type switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
        _ => 4,
    };
}
