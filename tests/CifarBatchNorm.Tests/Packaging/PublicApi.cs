using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace CifarBatchNorm.Tests.Packaging;

/// <summary>
/// Describes an assembly's public surface as sorted text, one line per type and per visible member:
/// <c>Namespace.Type: [protected] [static|abstract|virtual|override] kind signature</c>. Members inherited from
/// other assemblies are left out; nullable annotations, parameter names and default values are kept, because
/// changing any of them can break a caller.
/// </summary>
internal static class PublicApi
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance
        | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<Type, string> Keywords = new()
    {
        [typeof(void)] = "void", [typeof(bool)] = "bool", [typeof(byte)] = "byte", [typeof(sbyte)] = "sbyte",
        [typeof(short)] = "short", [typeof(ushort)] = "ushort", [typeof(int)] = "int", [typeof(uint)] = "uint",
        [typeof(long)] = "long", [typeof(ulong)] = "ulong", [typeof(float)] = "float", [typeof(double)] = "double",
        [typeof(decimal)] = "decimal", [typeof(char)] = "char", [typeof(string)] = "string", [typeof(object)] = "object",
    };

    public static IReadOnlyList<string> Describe(Assembly assembly)
    {
        var nullability = new NullabilityInfoContext();
        var lines = new List<string>();
        foreach (var type in assembly.GetExportedTypes())
        {
            string owner = TypeName(type, null, qualified: true);
            lines.Add($"{owner}: {DescribeType(type)}");
            foreach (var member in type.GetMembers(Declared))
            {
                if (Describe(member, type, nullability) is string line)
                {
                    lines.Add($"{owner}: {line}");
                }
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static string DescribeType(Type type)
    {
        string kind = type switch
        {
            { IsEnum: true } => "enum",
            { IsInterface: true } => "interface",
            _ when typeof(Delegate).IsAssignableFrom(type) => "delegate",
            { IsValueType: true } => type.IsDefined(typeof(IsReadOnlyAttribute)) ? "readonly struct" : "struct",
            { IsAbstract: true, IsSealed: true } => "static class",
            { IsAbstract: true } => "abstract class",
            { IsSealed: true } => "sealed class",
            _ => "class",
        };
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType)
            && baseType != typeof(Enum) && baseType != typeof(MulticastDelegate))
        {
            bases.Add(TypeName(baseType, null, qualified: false));
        }

        var inherited = type.BaseType?.GetInterfaces() ?? [];
        bases.AddRange(type.GetInterfaces().Except(inherited).Select(i => TypeName(i, null, qualified: false)).Order(StringComparer.Ordinal));
        return bases.Count == 0 ? kind : $"{kind} : {string.Join(", ", bases)}";
    }

    private static string? Describe(MemberInfo member, Type owner, NullabilityInfoContext nullability)
    {
        if (member.Name.StartsWith('<'))
        {
            return null; // compiler-generated and unspeakable, such as a record's <Clone>$
        }

        switch (member)
        {
            case ConstructorInfo ctor when Visible(ctor, owner) && !ctor.IsStatic:
                return $"{Access(ctor)}ctor({Parameters(ctor, nullability)})";
            case MethodInfo method when Visible(method, owner) && (!method.IsSpecialName || method.Name.StartsWith("op_", StringComparison.Ordinal)):
                string generic = method.IsGenericMethodDefinition ? $"<{string.Join(", ", method.GetGenericArguments().Select(a => a.Name))}>" : "";
                return $"{Access(method)}{Modifiers(method)}method {method.Name}{generic}({Parameters(method, nullability)}) -> "
                    + TypeName(method.ReturnType, nullability.Create(method.ReturnParameter), qualified: false);
            case PropertyInfo property:
                return DescribeProperty(property, owner, nullability);
            case FieldInfo field when Visible(field, owner) && !field.IsSpecialName:
                if (owner.IsEnum)
                {
                    return $"value {field.Name} = {Convert.ToString(field.GetRawConstantValue(), CultureInfo.InvariantCulture)}";
                }

                string fieldType = TypeName(field.FieldType, nullability.Create(field), qualified: false);
                return field.IsLiteral
                    ? $"{Access(field)}const {fieldType} {field.Name} = {Literal(field.GetRawConstantValue())}"
                    : $"{Access(field)}{(field.IsStatic ? "static " : "")}{(field.IsInitOnly ? "readonly " : "")}field {fieldType} {field.Name}";
            case EventInfo e when e.AddMethod is { } add && Visible(add, owner):
                return $"{Access(add)}{Modifiers(add)}event {TypeName(e.EventHandlerType!, nullability.Create(e), qualified: false)} {e.Name}";
            default:
                return null; // invisible, an accessor, or a nested type (described as a type of its own)
        }
    }

    private static string? DescribeProperty(PropertyInfo property, Type owner, NullabilityInfoContext nullability)
    {
        var getter = property.GetMethod is { } g && Visible(g, owner) ? g : null;
        var setter = property.SetMethod is { } s && Visible(s, owner) ? s : null;
        var accessor = getter ?? setter;
        if (accessor is null)
        {
            return null;
        }

        var accessors = new List<string>();
        if (getter is not null)
        {
            accessors.Add(Access(getter) == Access(accessor) ? "get;" : $"{Access(getter)}get;");
        }

        if (setter is not null)
        {
            bool init = setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));
            string verb = init ? "init;" : "set;";
            accessors.Add(Access(setter) == Access(accessor) ? verb : $"{Access(setter)}{verb}");
        }

        var index = property.GetIndexParameters();
        string name = index.Length == 0 ? property.Name : $"this[{string.Join(", ", index.Select(p => Parameter(p, nullability)))}]";
        return $"{Access(accessor)}{Modifiers(accessor)}property {TypeName(property.PropertyType, nullability.Create(property), qualified: false)} "
            + $"{name} {{ {string.Join(" ", accessors)} }}";
    }

    private static bool Visible(MethodBase method, Type owner) =>
        method.IsPublic || ((method.IsFamily || method.IsFamilyOrAssembly) && !owner.IsSealed);

    private static bool Visible(FieldInfo field, Type owner) =>
        field.IsPublic || ((field.IsFamily || field.IsFamilyOrAssembly) && !owner.IsSealed);

    private static string Access(MethodBase method) => method.IsPublic ? "" : "protected ";

    private static string Access(FieldInfo field) => field.IsPublic ? "" : "protected ";

    private static string Modifiers(MethodInfo method)
    {
        if (method.IsStatic)
        {
            return "static ";
        }

        if (method.DeclaringType!.IsInterface)
        {
            return method.IsAbstract ? "" : "default ";
        }

        if (method.IsAbstract)
        {
            return "abstract ";
        }

        if (method.GetBaseDefinition() != method)
        {
            return method.IsFinal ? "sealed override " : "override ";
        }

        return method.IsVirtual && !method.IsFinal ? "virtual " : "";
    }

    private static string Parameters(MethodBase method, NullabilityInfoContext nullability) =>
        string.Join(", ", method.GetParameters().Select(p => Parameter(p, nullability)));

    private static string Parameter(ParameterInfo parameter, NullabilityInfoContext nullability)
    {
        var type = parameter.ParameterType;
        string prefix = "";
        if (type.IsByRef)
        {
            prefix = parameter.IsOut ? "out " : parameter.IsIn ? "in " : "ref ";
            type = type.GetElementType()!;
        }
        else if (parameter.IsDefined(typeof(ParamArrayAttribute)))
        {
            prefix = "params ";
        }

        string text = $"{prefix}{TypeName(type, nullability.Create(parameter), qualified: false)} {parameter.Name}";
        return parameter.HasDefaultValue ? $"{text} = {DefaultValue(type, parameter.RawDefaultValue)}" : text;
    }

    private static string DefaultValue(Type type, object? value)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (value is null || value == DBNull.Value || value is Missing)
        {
            return type.IsValueType && Nullable.GetUnderlyingType(type) is null ? "default" : "null";
        }

        return underlying.IsEnum
            ? $"{TypeName(underlying, null, qualified: false)}.{Enum.ToObject(underlying, value)}"
            : Literal(value);
    }

    private static string Literal(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        char c => $"'{c}'",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string TypeName(Type type, NullabilityInfo? nullability, bool qualified)
    {
        if (type.IsByRef)
        {
            return TypeName(type.GetElementType()!, nullability, qualified);
        }

        string suffix = nullability?.ReadState == NullabilityState.Nullable && !type.IsValueType ? "?" : "";
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return TypeName(underlying, null, qualified) + "?";
        }

        if (type.IsArray)
        {
            string rank = new(',', type.GetArrayRank() - 1);
            return $"{TypeName(type.GetElementType()!, nullability?.ElementType, qualified)}[{rank}]{suffix}";
        }

        if (type.IsGenericParameter)
        {
            return type.Name + suffix;
        }

        if (Keywords.TryGetValue(type, out string? keyword))
        {
            return keyword + suffix;
        }

        string name = type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0)
        {
            name = name[..tick];
        }

        if (type.IsGenericType)
        {
            var arguments = type.GetGenericArguments();
            var infos = nullability?.GenericTypeArguments ?? [];
            var names = arguments.Select((a, i) => TypeName(a, i < infos.Length ? infos[i] : null, qualified: false));
            name = $"{name}<{string.Join(", ", names)}>";
        }

        if (type.IsNested && !type.IsGenericParameter)
        {
            name = $"{TypeName(type.DeclaringType!, null, qualified)}.{name}";
        }
        else if (qualified && !string.IsNullOrEmpty(type.Namespace))
        {
            name = $"{type.Namespace}.{name}";
        }

        return name + suffix;
    }
}
