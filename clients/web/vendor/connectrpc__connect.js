import{a as e,c as r,h as o}from"./chunk-5KNDCCQD.js";import"./chunk-IMZGKS4W.js";import"./chunk-C5DY4K7Q.js";export{e as Code,r as ConnectError,o as createClient};
