import{a}from"./chunk-IMZGKS4W.js";import{P as o,t as r}from"./chunk-C5DY4K7Q.js";export{r as create,o as fromBinary,a as toBinary};
