using System.Buffers.Binary;
using System.Text;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>
/// Walks an HDF5 file's groups from the root before PureHDF opens it, reading only the structures that hold links
/// (HDF5 File Format Specification 3.0: superblock, object headers v1/v2, symbol-table B-trees and local heaps, link
/// messages), and refuses every link that is not a plain hard link: a soft link (PureHDF resolves them recursively, so
/// one pointing at itself overflows the stack, which no handler can catch), an external link (it opens another file,
/// or this one again), a group reached twice (a hard-link cycle), more than <see cref="MaxDepth"/> levels or
/// <see cref="MaxObjects"/> objects, and links kept in dense storage, which only a file written with many links per group
/// and <c>libver="latest"</c> has. Keras weight files hold groups and datasets only, so none of this refuses one.
/// </summary>
internal sealed class Hdf5LinkCheck
{
    /// <summary>Deepest group nesting accepted (a Keras 3 file nests 4 levels: layers/NAME/vars/0).</summary>
    public const int MaxDepth = 32;

    /// <summary>Most objects (groups, datasets, B-tree and symbol-table nodes) visited.</summary>
    public const int MaxObjects = 100_000;

    private const ulong Undefined = ulong.MaxValue;

    private readonly Stream stream;
    private readonly string source;
    private readonly HashSet<ulong> visited = [];
    private int offsetSize;
    private int lengthSize;
    private int objects;

    private Hdf5LinkCheck(Stream stream, string source)
    {
        this.stream = stream;
        this.source = source;
    }

    /// <summary>Throws unless every link from the root down is a hard link to a group or dataset seen once.</summary>
    /// <exception cref="ModelFileException">A soft or external link, a cycle, too deep a tree, or damaged structures.</exception>
    public static void Require(Stream stream, string source)
    {
        var check = new Hdf5LinkCheck(stream, source);
        long start = stream.Position;
        try
        {
            check.Run();
        }
        finally
        {
            stream.Position = start;
        }
    }

    private void Run()
    {
        byte version = Bytes(8, 1)[0];
        ulong root;
        if (version <= 1)
        {
            var head = Bytes(13, 2);
            (offsetSize, lengthSize) = (head[0], head[1]);
            RequireSizes();
            long entry = 24 + (version == 1 ? 4 : 0) + (4 * offsetSize);
            root = SymbolEntry(entry).Address;
        }
        else if (version <= 3)
        {
            var head = Bytes(9, 2);
            (offsetSize, lengthSize) = (head[0], head[1]);
            RequireSizes();
            root = Offset(12 + (3L * offsetSize));
        }
        else
        {
            throw Damaged($"superblock version {version} is unknown");
        }

        Group(root, "/", 0);
    }

    private void RequireSizes()
    {
        if (offsetSize is not (2 or 4 or 8) || lengthSize is not (2 or 4 or 8))
        {
            throw Damaged($"offset size {offsetSize} or length size {lengthSize} is not 2, 4 or 8");
        }
    }

    private void Group(ulong header, string path, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ModelFileException($"{source}: the HDF5 groups nest deeper than {MaxDepth} levels at '{path}'; a Keras weights file nests 4. It is not a Keras weights file.");
        }

        if (!visited.Add(header))
        {
            throw new ModelFileException($"{source}: the HDF5 group '{path}' is reached a second time (a hard-link cycle); a Keras weights file links each group once. It is damaged or crafted.");
        }

        Count();
        foreach (var (type, body) in Messages(header))
        {
            switch (type)
            {
                case 0x0011: // symbol table: an old-style group
                    SymbolTable(Offset(body), Offset(body + offsetSize), path, depth);
                    break;
                case 0x0002: // link info: a new-style group; its links are link messages unless kept in a fractal heap
                    long at = body + 2 + ((Bytes(body + 1, 1)[0] & 1) != 0 ? 8 : 0);
                    if (Offset(at) != Undefined)
                    {
                        throw new ModelFileException($"{source}: the HDF5 group '{path}' keeps its links in dense storage, which this reader does not accept; Keras writes small groups (save the file again with Keras or h5py's default libver).");
                    }

                    break;
                case 0x0006:
                    LinkMessage(body, path, depth);
                    break;
            }
        }
    }

    private void LinkMessage(long at, string path, int depth)
    {
        var head = Bytes(at, 2);
        if (head[0] != 1)
        {
            throw Damaged($"link message version {head[0]} at '{path}' is unknown");
        }

        byte flags = head[1];
        long position = at + 2;
        int linkType = 0;
        if ((flags & 0x08) != 0)
        {
            linkType = Bytes(position, 1)[0];
            position++;
        }

        if ((flags & 0x04) != 0)
        {
            position += 8;
        }

        if ((flags & 0x10) != 0)
        {
            position++;
        }

        int lengthBytes = 1 << (flags & 0x3);
        ulong nameLength = Unsigned(position, lengthBytes);
        position += lengthBytes;
        if (nameLength == 0 || nameLength > 65_535)
        {
            throw Damaged($"a link name of {nameLength} bytes in '{path}'");
        }

        string name = Encoding.UTF8.GetString(Bytes(position, (int)nameLength));
        position += (long)nameLength;
        string child = Join(path, name);
        switch (linkType)
        {
            case 0:
                Object(Offset(position), child, depth);
                break;
            case 1:
                throw Link(child, "a soft link", LinkValue(position));
            case 64:
                throw Link(child, "an external link", LinkValue(position).Replace('\0', ':'));
            default:
                throw Link(child, $"a user-defined link (type {linkType})", null);
        }
    }

    private string LinkValue(long position)
    {
        int length = (int)Unsigned(position, 2);
        return Encoding.UTF8.GetString(Bytes(position + 2, length)).TrimEnd('\0');
    }

    private void SymbolTable(ulong tree, ulong heap, string path, int depth)
    {
        ulong names = LocalHeapData(heap);
        var nodes = new Stack<ulong>();
        nodes.Push(tree);
        while (nodes.Count > 0)
        {
            ulong node = nodes.Pop();
            if (!visited.Add(node))
            {
                throw Damaged($"the B-tree of '{path}' visits a node twice");
            }

            Count();
            long at = Position(node);
            if (Encoding.ASCII.GetString(Bytes(at, 4)) == "TREE")
            {
                var head = Bytes(at + 4, 4);
                int level = head[1];
                int used = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(2));
                long children = at + 8 + (2L * offsetSize) + lengthSize;
                for (int i = 0; i < used; i++)
                {
                    ulong child = Offset(children + (i * (long)(offsetSize + lengthSize)));
                    if (level > 0)
                    {
                        nodes.Push(child);
                    }
                    else
                    {
                        SymbolNode(child, names, path, depth);
                    }
                }
            }
            else
            {
                throw Damaged($"the group '{path}' names a B-tree node that has no TREE signature");
            }
        }
    }

    private void SymbolNode(ulong node, ulong names, string path, int depth)
    {
        Count();
        long at = Position(node);
        if (Encoding.ASCII.GetString(Bytes(at, 4)) != "SNOD")
        {
            throw Damaged($"the group '{path}' names a symbol-table node that has no SNOD signature");
        }

        int count = BinaryPrimitives.ReadUInt16LittleEndian(Bytes(at + 6, 2));
        long entrySize = (2L * offsetSize) + 24;
        for (int i = 0; i < count; i++)
        {
            long entry = at + 8 + (i * entrySize);
            var (address, cacheType, nameOffset) = SymbolEntry(entry);
            string child = Join(path, HeapString(names, nameOffset));
            if (cacheType == 2)
            {
                uint valueOffset = BinaryPrimitives.ReadUInt32LittleEndian(Bytes(entry + (2L * offsetSize) + 8, 4));
                throw Link(child, "a soft link", HeapString(names, valueOffset));
            }

            Object(address, child, depth);
        }
    }

    private void Object(ulong header, string path, int depth)
    {
        Count();
        if (IsGroup(header))
        {
            Group(header, path, depth + 1);
        }
    }

    private bool IsGroup(ulong header) => Messages(header).Any(m => m.Type is 0x0011 or 0x0002);

    /// <summary>Every message of an object header, continuation blocks included: (type, offset of its body).</summary>
    private List<(int Type, long Body)> Messages(ulong header)
    {
        var result = new List<(int, long)>();
        long at = Position(header);
        var blocks = new Queue<(long Start, long Length, bool V2)>();
        bool v2 = Encoding.ASCII.GetString(Bytes(at, 4)) == "OHDR";
        bool creationOrder = false;
        if (v2)
        {
            var head = Bytes(at + 4, 2);
            byte flags = head[1];
            creationOrder = (flags & 0x04) != 0;
            long position = at + 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
            int sizeBytes = 1 << (flags & 0x3);
            long length = (long)Unsigned(position, sizeBytes);
            blocks.Enqueue((position + sizeBytes, length, true));
        }
        else
        {
            var head = Bytes(at, 16);
            if (head[0] != 1)
            {
                throw Damaged($"object header at {header} has version {head[0]}");
            }

            blocks.Enqueue((at + 16, BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(8)), false));
        }

        int blockCount = 0;
        while (blocks.Count > 0)
        {
            if (++blockCount > 1_000)
            {
                throw Damaged($"object header at {header} has more than 1,000 continuation blocks");
            }

            var (start, length, isV2) = blocks.Dequeue();
            long end = start + length; // a v2 chunk's checksum lies past its length, an OCHK block's is excluded below
            long position = start;
            int headerSize = isV2 ? 4 + (creationOrder ? 2 : 0) : 8;
            while (position + headerSize <= end)
            {
                var message = Bytes(position, headerSize);
                int type = isV2 ? message[0] : BinaryPrimitives.ReadUInt16LittleEndian(message);
                int size = BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(isV2 ? 1 : 2));
                long body = position + headerSize;
                if (body + size > end)
                {
                    throw Damaged($"a message of object header {header} runs past its block");
                }

                if (type == 0x0010)
                {
                    long next = Position(Offset(body));
                    long nextLength = (long)Unsigned(body + offsetSize, lengthSize);
                    if (isV2)
                    {
                        if (Encoding.ASCII.GetString(Bytes(next, 4)) != "OCHK")
                        {
                            throw Damaged($"a continuation of object header {header} has no OCHK signature");
                        }

                        blocks.Enqueue((next + 4, nextLength - 8, true));
                    }
                    else
                    {
                        blocks.Enqueue((next, nextLength, false));
                    }
                }
                else
                {
                    result.Add((type, body));
                }

                position = body + size;
            }
        }

        return result;
    }

    private (ulong Address, uint CacheType, ulong NameOffset) SymbolEntry(long at)
    {
        ulong nameOffset = Offset(at);
        ulong address = Offset(at + offsetSize);
        uint cacheType = BinaryPrimitives.ReadUInt32LittleEndian(Bytes(at + (2L * offsetSize), 4));
        return (address, cacheType, nameOffset);
    }

    private ulong LocalHeapData(ulong heap)
    {
        long at = Position(heap);
        if (Encoding.ASCII.GetString(Bytes(at, 4)) != "HEAP")
        {
            throw Damaged("a group's local heap has no HEAP signature");
        }

        return Offset(at + 8 + (2L * lengthSize));
    }

    private string HeapString(ulong data, ulong offset)
    {
        long at = Position(data) + (long)Math.Min(offset, (ulong)stream.Length);
        var text = new List<byte>();
        stream.Position = Math.Min(at, stream.Length);
        for (int b = stream.ReadByte(); b > 0 && text.Count < 65_535; b = stream.ReadByte())
        {
            text.Add((byte)b);
        }

        return Encoding.UTF8.GetString([.. text]);
    }

    private void Count()
    {
        if (++objects > MaxObjects)
        {
            throw new ModelFileException($"{source}: more than {MaxObjects:N0} HDF5 objects; a Keras weights file has a few hundred. It is not a Keras weights file.");
        }
    }

    private long Position(ulong address)
    {
        if (address == Undefined || address >= (ulong)stream.Length)
        {
            throw Damaged($"address {address} lies outside the file ({stream.Length:N0} bytes)");
        }

        return (long)address;
    }

    private ulong Offset(long at) => Unsigned(at, offsetSize);

    private ulong Unsigned(long at, int size)
    {
        var bytes = Bytes(at, size);
        return size switch
        {
            1 => bytes[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
            _ => BinaryPrimitives.ReadUInt64LittleEndian(bytes),
        };
    }

    private byte[] Bytes(long at, int count)
    {
        if (at < 0 || count < 0 || at + count > stream.Length)
        {
            throw Damaged($"a structure at byte {at} runs past the end of the file ({stream.Length:N0} bytes)");
        }

        var buffer = new byte[count];
        stream.Position = at;
        stream.ReadExactly(buffer);
        return buffer;
    }

    private ModelFileException Link(string path, string kind, string? target) =>
        new($"{source}: the HDF5 link '{path}' is {kind}{(target is null ? string.Empty : $" (to '{target}')")}; a Keras weights file holds only groups and datasets, so links are refused.");

    private ModelFileException Damaged(string what) =>
        new($"{source} cannot be read as HDF5 ({what}); it is truncated or damaged.");

    private static string Join(string path, string name) => path == "/" ? name : $"{path}/{name}";
}
