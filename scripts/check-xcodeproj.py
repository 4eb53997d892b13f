#!/usr/bin/env python3
"""Checks ios/Accord.xcodeproj/project.pbxproj without Xcode: it parses as an old-style
plist, every object it names exists, and every target's synchronized folder and the local
package it names are in the repository. Prints "xcodeproj: 1 passed, 0 failed" or why not."""
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ios")
path = os.path.join(root, "Accord.xcodeproj", "project.pbxproj")


def parse(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"^//.*$", "", text, flags=re.M)
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|[{}();=,]|[^\s{}();=,"]+', text)
    pos = 0

    def value():
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == "{":
            d = {}
            while tokens[pos] != "}":
                key = tokens[pos].strip('"')
                if tokens[pos + 1] != "=":
                    raise ValueError(f"expected = after {key}")
                pos += 2
                d[key] = value()
                if tokens[pos] != ";":
                    raise ValueError(f"expected ; after the value of {key}")
                pos += 1
            pos += 1
            return d
        if token == "(":
            items = []
            while tokens[pos] != ")":
                items.append(value())
                if tokens[pos] == ",":
                    pos += 1
            pos += 1
            return items
        return token.strip('"')

    return value()


def main():
    problems = []
    try:
        project = parse(open(path).read())
        objects = project["objects"]
    except Exception as e:  # a parse error is the message
        print(f"xcodeproj: {path} does not parse: {e}")
        print("xcodeproj: 0 passed, 1 failed")
        return 1
    ids = re.compile(r"[0-9A-F]{24}")
    for key, obj in objects.items():
        for field, v in obj.items():
            for ref in v if isinstance(v, list) else [v]:
                if isinstance(ref, str) and ids.fullmatch(ref) and ref not in objects:
                    problems.append(f"{key}.{field} names {ref}, which is not defined")
        if obj.get("isa") == "PBXFileSystemSynchronizedRootGroup":
            if not os.path.isdir(os.path.join(root, obj["path"])):
                problems.append(f"folder {obj['path']} is missing")
        if obj.get("isa") == "XCLocalSwiftPackageReference":
            if not os.path.isfile(os.path.join(root, obj["relativePath"], "Package.swift")):
                problems.append(f"package {obj['relativePath']} is missing")
        if obj.get("isa") == "XCBuildConfiguration":
            plist = obj["buildSettings"].get("INFOPLIST_FILE")
            if plist and not os.path.isfile(os.path.join(root, plist)):
                problems.append(f"{plist} is missing")
    if project.get("rootObject") not in objects:
        problems.append("the root object is not defined")
    for p in problems:
        print(f"xcodeproj: {p}")
    print(f"xcodeproj: {0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


sys.exit(main())
