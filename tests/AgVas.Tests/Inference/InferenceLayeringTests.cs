using System.Reflection;
using AgVas.Inference;

namespace AgVas.Tests.Inference;

/// <summary>Inference sits below training: no type of <c>AgVas.Inference</c> names a type of <c>AgVas.Training</c>, in its
/// signatures (reflection) or in its code (the sources).</summary>
public class InferenceLayeringTests
{
    [Fact]
    public void NoInferenceSignatureNamesATrainingType()
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var types = typeof(AnomalySegmenter).Assembly.GetTypes().Where(t => t.Namespace == "AgVas.Inference").ToList();
        Assert.Contains(typeof(AgVasInferenceModel), types);
        static IEnumerable<Type> Named(Type t) => t.IsGenericType ? t.GetGenericArguments().SelectMany(Named).Append(t) :
            t.HasElementType ? Named(t.GetElementType()!) : [t];
        var offenders = (from type in types
                         from used in new[] { type.BaseType }.Concat(type.GetInterfaces())
                             .Concat(type.GetFields(all).Select(f => f.FieldType))
                             .Concat(type.GetProperties(all).Select(p => p.PropertyType))
                             .Concat(type.GetMethods(all).SelectMany(m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType)))
                             .Concat(type.GetConstructors(all).SelectMany(c => c.GetParameters().Select(p => p.ParameterType)))
                             .OfType<Type>().SelectMany(Named)
                         where used.Namespace?.StartsWith("AgVas.Training", StringComparison.Ordinal) == true
                         select $"{type.Name} uses {used.FullName}").Distinct().ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void NoInferenceSourceMentionsTheTrainingNamespace()
    {
        var files = Directory.GetFiles(Repository.Path("src/AgVas/Inference"), "*.cs", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        var offenders = files.Where(f => File.ReadAllText(f) is var text && (text.Contains("AgVas.Training") || text.Contains("Training.")))
            .Select(Path.GetFileName).ToList();
        Assert.Empty(offenders);
    }
}
