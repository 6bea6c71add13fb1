using System.CommandLine;

namespace CifarBatchNorm.Cli;

/// <summary>
/// Turns the parser's "unrecognized command or argument" errors into one line per mistyped token that names the
/// closest valid command or option ("did you mean --epochs?"), or says that an option belongs to <c>train</c> when
/// another command was given it; the edit distance is the optimal string alignment distance (a swap of two adjacent
/// letters, as in <c>trian</c>, counts one).
/// </summary>
internal static class CliSuggestions
{
    /// <summary>
    /// The error lines for <paramref name="parsed"/>: one per unknown token that has a suggestion (the value after an
    /// unknown option, and what follows an unknown command, is not reported again), and the parser's own message for every other error.
    /// </summary>
    public static IReadOnlyList<string> ErrorLines(ParseResult parsed)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        var command = parsed.CommandResult.Command;
        var handled = new HashSet<string>(StringComparer.Ordinal);
        var lines = new List<string>();
        string? previousUnknownOption = null;
        bool afterUnknownCommand = false;
        foreach (string token in parsed.UnmatchedTokens)
        {
            if (afterUnknownCommand)
            {
                handled.Add(token);   // the arguments of the mistyped command mean nothing on their own
                continue;
            }

            if (previousUnknownOption is not null && !token.StartsWith('-'))
            {
                handled.Add(token);   // the value of the unknown option just reported
                previousUnknownOption = null;
                continue;
            }

            previousUnknownOption = null;
            if (Explain(parsed.RootCommandResult.Command, command, token) is string line)
            {
                lines.Add(line);
                handled.Add(token);
                previousUnknownOption = token.StartsWith('-') ? token : null;
                afterUnknownCommand = !token.StartsWith('-');
            }
        }

        foreach (var error in parsed.Errors)
        {
            if (!handled.Any(token => error.Message.Contains($"'{token}'", StringComparison.Ordinal)))
            {
                lines.Add($"error: {error.Message}");
            }
        }

        return lines;
    }

    /// <summary>The one-line error for the unknown <paramref name="token"/> given to <paramref name="command"/>, or <c>null</c> when nothing is close.</summary>
    internal static string? Explain(Command root, Command command, string token)
    {
        if (token.StartsWith('-'))
        {
            string name = token.Split('=', 2)[0];
            var own = command.Options.Concat(Ancestors(command).SelectMany(c => c.Options).Where(o => o.Recursive))
                .SelectMany(o => o.Aliases.Prepend(o.Name)).Distinct(StringComparer.Ordinal).ToList();
            if (command.Name != "train" && command is not RootCommand
                && root.Subcommands.FirstOrDefault(c => c.Name == "train") is { } train
                && train.Options.Any(o => o.Name == name || o.Aliases.Contains(name)))
            {
                return $"error: {name} is an option of train, not {command.Name}.";
            }

            return Closest(name, own) is string option ? $"error: unknown option '{name}'; did you mean {option}?" : null;
        }

        var names = command.Subcommands.SelectMany(c => c.Aliases.Prepend(c.Name)).ToList();
        return Closest(token, names) is string closest ? $"error: unknown command '{token}'; did you mean {closest}?" : null;
    }

    /// <summary>
    /// The candidate closest to <paramref name="token"/>, when it is close: at most 2 edits, and at most a third of the
    /// token's letters (leading dashes not counted), so that <c>-x</c> suggests nothing.
    /// </summary>
    internal static string? Closest(string token, IEnumerable<string> candidates)
    {
        int letters = token.TrimStart('-').Length;
        var best = candidates.Select(c => (Name: c, Distance: Distance(token, c)))
            .Where(c => c.Distance > 0 && c.Distance <= 2 && c.Distance * 3 <= letters)
            .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault();
        return best.Name;
    }

    /// <summary>The optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps, each one edit.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    private static IEnumerable<Command> Ancestors(Command command)
    {
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
        {
            yield return parent;
        }
    }
}
