using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace AgVas.Tests.Deploy;

/// <summary>Navigation of YamlDotNet's representation model, failing with the missing key's name.</summary>
internal static class YamlNav
{
    public static bool Has(this YamlMappingNode node, string key) => node.Children.ContainsKey(new YamlScalarNode(key));

    public static YamlNode Child(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : throw new Xunit.Sdk.XunitException($"no '{key}' at line {node.Start.Line}");

    public static YamlMappingNode Node(this YamlMappingNode node, string key) => Assert.IsType<YamlMappingNode>(node.Child(key));

    public static string Text(this YamlMappingNode node, string key) => Assert.IsType<YamlScalarNode>(node.Child(key)).Value ?? "";

    public static string? TextOrNull(this YamlMappingNode node, string key) => node.Has(key) ? node.Text(key) : null;

    public static int Int(this YamlMappingNode node, string key) => int.Parse(node.Text(key), CultureInfo.InvariantCulture);

    public static IEnumerable<YamlMappingNode> Nodes(this YamlMappingNode node, string key) =>
        node.Has(key) ? Assert.IsType<YamlSequenceNode>(node.Child(key)).Children.Select(c => Assert.IsType<YamlMappingNode>(c)) : [];

    public static IReadOnlyList<string> Strings(this YamlMappingNode node, string key) =>
        node.Has(key) ? Assert.IsType<YamlSequenceNode>(node.Child(key)).Children.Select(c => Assert.IsType<YamlScalarNode>(c).Value ?? "").ToList() : [];

    public static IEnumerable<KeyValuePair<string, string>> Pairs(this YamlMappingNode node) =>
        node.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value ?? "", ((YamlScalarNode)p.Value).Value ?? ""));
}
