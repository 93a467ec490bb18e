using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Futures.Native.Tests;

/// <summary>
/// The house's rule (docs/layout.md): a C# file's namespace is its project's root namespace followed by
/// its folders, so that a namespace says where its files are. Checked over every <c>.cs</c> file of every
/// project under <c>src</c> (a top-level program, <c>Program.cs</c>, has none).
/// </summary>
public sealed partial class NamespaceTests
{
    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*[;{]", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();

    private static DirectoryInfo RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Futures.sln")))
            {
                return dir;
            }
        }
        throw new InvalidOperationException("Futures.sln not found above " + TestContext.CurrentContext.TestDirectory);
    }

    [Test]
    public void EveryNamespaceFollowsItsFolders()
    {
        var wrong = new List<string>();
        int files = 0;
        foreach (var project in RepositoryRoot().GetDirectories("src").Single().GetFiles("*.csproj", SearchOption.AllDirectories))
        {
            string root = XDocument.Load(project.FullName).Descendants("RootNamespace").Single().Value;
            var folder = project.Directory!;
            foreach (var file in folder.EnumerateFiles("*.cs", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(folder.FullName, file.DirectoryName!);
                if (relative.Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj")
                {
                    continue;
                }
                files++;
                string expected = relative == "." ? root : root + "." + relative.Replace(Path.DirectorySeparatorChar, '.');
                var declared = NamespaceDeclaration().Matches(File.ReadAllText(file.FullName)).Select(m => m.Groups[1].Value).ToList();
                if (declared.Count == 0 && file.Name == "Program.cs")
                {
                    continue; // top-level statements
                }
                if (declared.Count != 1 || declared[0] != expected)
                {
                    wrong.Add($"{Path.GetRelativePath(RepositoryRoot().FullName, file.FullName)}: {string.Join(", ", declared)} (expected {expected})");
                }
            }
        }
        Assert.That(files, Is.GreaterThan(100), "the walk found the sources");
        Assert.That(wrong, Is.Empty, "namespace = the project's RootNamespace + the file's folders");
    }
}
